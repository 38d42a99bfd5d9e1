"""The neuromod-gym command: list, bad input before any work (exit 2, one-line reason),
and a tiny train + plot."""
from __future__ import annotations

import pytest

from neuromod_gym.cli import main


def test_list_names_tasks_agents_rules_baselines(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("neuromod_gym/ReversalBandit-v0", "actor_critic", "hebbian", "mstdp_et", "ppo",
                 "dqn", "twin"):
        assert name in out


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "Nope-v0", "--agents", "twin"], "unknown task 'Nope-v0'"),
    (["--tasks", "CartPole-v1", "--agents", "transformer"], "unknown agent 'transformer'"),
    (["--tasks", "CartPole-v1", "--agents", "twin", "--eval-every", "999"], "eval_every"),
])
def test_compare_bad_input_exits_2_before_work(argv, message, tmp_path, capsys):
    base = {"--budget": "100", "--eval-every": "50", "--out": str(tmp_path / "run")}
    for i in range(0, len(argv), 1):
        if argv[i] in base and i + 1 < len(argv):
            base.pop(argv[i])
    full = ["compare", *argv, *[x for kv in base.items() for x in kv]]
    assert main(full) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run" / "results.csv").exists()


def test_bad_budget_and_unwritable_out(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--tasks", "CartPole-v1", "--agents", "twin", "--budget", "-5",
              "--eval-every", "1", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    (tmp_path / "file").write_text("")
    assert main(["compare", "--tasks", "CartPole-v1", "--agents", "twin", "--budget", "10",
                 "--eval-every", "5", "--out", str(tmp_path / "file" / "run")]) == 2
    assert "not writable" in capsys.readouterr().err
    assert main(["plot", str(tmp_path)]) == 2


def test_train_writes_checkpoint_summary_and_figures(tmp_path):
    out = tmp_path / "one"
    assert main(["train", "--task", "CartPole-v1", "--agent", "twin", "--budget", "300",
                 "--eval-every", "150", "--eval-episodes", "2", "--out", str(out)]) == 0
    for name in ("config.json", "results.csv", "summary.md", "agent.npz",
                 "plots/learning_curves.png", "plots/final_iqm.png", "plots/episode.png"):
        assert (out / name).exists(), name
    from agents.twin import RateTwinAgent
    assert RateTwinAgent.load(out / "agent.npz").num_timesteps == 300
    # compare --rerun of a finished folder resumes it: nothing to do, same table
    before = (out / "results.csv").read_text()
    assert main(["compare", "--rerun", str(out)]) == 0
    assert (out / "results.csv").read_text() == before
