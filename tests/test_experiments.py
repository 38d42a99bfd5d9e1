"""The comparison harness: statistics on fixed data, a tiny sweep's rows and statistics,
determinism, resume after SIGKILL, the Ray backend, and errors before any work."""
from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from neuromod_gym.experiments import statistics as st
from neuromod_gym.experiments.sweep import (COLUMNS, TIMING_COLUMNS, eval_steps, load_results,
                                            parse_agent, prepare_sweep, resolve_agent,
                                            run_cell, run_sweep)

TASKS = ["ReversalBandit-v0", "CartPole-v1"]
AGENTS = ["spiking", "ppo"]
TINY = dict(seeds=2, budget=200, eval_every=100, eval_episodes=2)


def _untimed(rows):
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


# ----------------------------------------------------------------------------- statistics
def test_iqm_matches_hand_computation():
    # 8 scores: drop the lowest 2 and highest 2 -> mean(2, 3, 4, 5) = 3.5
    assert st.iqm([100, 0, 6, 1, 5, 2, 4, 3]) == pytest.approx(3.5)
    # 5 scores: trim int(0.25 * 5) = 1 each end -> mean(2, 3, 4) = 3
    assert st.iqm([50, 1, 2, 3, 4]) == pytest.approx(3.0)
    # 3 scores: nothing trimmed -> the mean
    assert st.iqm([1, 2, 6]) == pytest.approx(3.0)


def test_bootstrap_ci_brackets_the_statistic_and_is_reproducible():
    scores = [0, 1, 2, 3, 4, 5, 6, 100]
    low, high = st.bootstrap_ci(scores, st.iqm)
    assert low <= 3.5 <= high and high < 100
    assert st.bootstrap_ci(scores, st.iqm) == (low, high)
    assert st.bootstrap_ci([7.0, 7.0, 7.0]) == (7.0, 7.0)
    assert all(math.isnan(c) for c in st.bootstrap_ci([1.0]))


def test_probability_of_improvement_and_threshold_by_hand():
    # pairs (x, y): 1 beats only 0; 2 ties 2, 2 and beats 0; 3 beats all -> (1 + 2 + 3) / 9
    assert st.probability_of_improvement([1, 2, 3], [2, 2, 0]) == pytest.approx(6 / 9)
    assert st.steps_to_threshold([0, 100, 200], [1, 5, 9], 5) == 100
    assert st.steps_to_threshold([0, 100], [1, 2], 5) == math.inf
    assert eval_steps(250, 100) == [0, 100, 200, 250]


def test_summary_of_fixed_rows():
    rows = []
    for seed, finals in enumerate([10, 20, 30, 1000]):
        for step, value in ((0, 0.0), (100, finals / 2), (200, float(finals))):
            rows.append({"task": "CartPole-v1", "agent": "a", "seed": str(seed), "kind": "eval",
                         "step": str(step), "eval_return": repr(value), "return": ""})
        rows.append({"task": "CartPole-v1", "agent": "a", "seed": str(seed), "kind": "train",
                     "step": "195", "eval_return": "", "return": "4.0"})
    a = st.summarize(rows, {"CartPole-v1": 15.0})["tasks"]["CartPole-v1"]["agents"]["a"]
    assert a["final"] == [10, 20, 30, 1000]
    assert a["final_iqm"] == pytest.approx(25.0)   # mean(20, 30)
    assert a["final_mean"] == pytest.approx(265.0)
    assert a["online"] == [4.0] * 4
    # halfway values 5, 10, 15, 500: seed 0 never reaches 15, seed 1 only at the end
    assert a["steps_to_threshold"] == [math.inf, 200, 100, 100]
    assert a["steps_to_threshold_median"] == 150


# ----------------------------------------------------------------------------- names
def test_agent_names_parse():
    spec = parse_agent("spiking:rstdp:rstdp+ne-da")
    assert (spec.kind, spec.architecture, spec.rule) == ("spiking", "rstdp", "rstdp")
    assert spec.params == {"norepinephrine": True, "dopamine": "off"}
    assert parse_agent("ppo").kind == "ppo"
    for bad, message in (("spikng", "unknown agent"), ("spiking:transformer", "architecture"),
                         ("spiking:rstdp:backprop", "rule"), ("spiking+dopa", "modulator"),
                         ("ppo:actor_critic", "baselines take no")):
        with pytest.raises(ValueError, match=message):
            parse_agent(bad)


# ----------------------------------------------------------------------------- the sweep
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    run_sweep(TASKS, AGENTS, out=out, workers=2, progress=False, **TINY)
    return out


def test_tiny_sweep_rows_and_statistics(tiny_run):
    rows = load_results(tiny_run)
    assert list(rows[0]) == list(COLUMNS)
    cells = {(r["task"], r["agent"], r["seed"]) for r in rows}
    assert cells == {(t, a, s) for t in ("neuromod_gym/ReversalBandit-v0", "CartPole-v1")
                     for a in AGENTS for s in ("0", "1")}
    for cell in cells:
        evals = [r for r in rows if (r["task"], r["agent"], r["seed"]) == cell
                 and r["kind"] == "eval"]
        assert [int(r["step"]) for r in evals] == [0, 100, 200]
        assert all(r["eval_return"] != "" and r["return"] == "" for r in evals)
    train = [r for r in rows if r["kind"] == "train"]
    # CartPole episodes end within 200 steps; a 1,000-trial bandit episode does not
    assert {r["task"] for r in train} == {"CartPole-v1"}
    assert all(int(r["length"]) >= 1 and r["eval_return"] == "" for r in train)
    st.write_summary(tiny_run)
    text = (tiny_run / "summary.md").read_text()
    assert "## CartPole-v1" in text and "## neuromod_gym/ReversalBandit-v0" in text
    assert "| spiking | ppo |" in text  # probability of improvement row
    from neuromod_gym.plotting import plot_run
    for path in plot_run(tiny_run):
        assert path.stat().st_size > 10_000


def test_same_seed_same_rows():
    resolved = resolve_agent("CartPole-v1", parse_agent("twin"))
    a = run_cell("CartPole-v1", "twin", resolved, 3, 300, 150, 2)
    b = run_cell("CartPole-v1", "twin", resolved, 3, 300, 150, 2)
    assert _untimed(a) == _untimed(b)
    assert _untimed(a) != _untimed(run_cell("CartPole-v1", "twin", resolved, 4, 300, 150, 2))


def test_rerun_of_a_finished_folder_repeats_nothing(tiny_run):
    before = {p: p.stat().st_mtime_ns for p in (tiny_run / "cells").glob("*.csv")}
    rows = load_results(tiny_run)
    run_sweep(TASKS, AGENTS, out=tiny_run, workers=1, progress=False, **TINY)
    assert {p: p.stat().st_mtime_ns for p in (tiny_run / "cells").glob("*.csv")} == before
    assert load_results(tiny_run) == rows


def test_sigkill_then_rerun_gives_the_complete_table(tmp_path):
    kwargs = dict(seeds=8, budget=3000, eval_every=1000, eval_episodes=2)
    script = textwrap.dedent(f"""
        from neuromod_gym.experiments.sweep import run_sweep
        run_sweep(["CartPole-v1"], ["twin"], out={str(tmp_path / 'killed')!r}, workers=1,
                  progress=False, **{kwargs!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    cells = tmp_path / "killed" / "cells"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(cells.glob("*.csv"))) < 2:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p: p.stat().st_mtime_ns for p in cells.glob("*.csv")}
    assert 2 <= len(done_before) < 8, "the kill should land mid-sweep"
    assert not (tmp_path / "killed" / "results.csv").exists()
    run_sweep(["CartPole-v1"], ["twin"], out=tmp_path / "killed", workers=1, progress=False,
              **kwargs)
    # finished cells were not repeated ...
    assert {p: p.stat().st_mtime_ns for p in done_before} == done_before
    # ... and the table equals an uninterrupted run's: no duplicate, no missing cell
    run_sweep(["CartPole-v1"], ["twin"], out=tmp_path / "clean", workers=1, progress=False,
              **kwargs)
    killed = _untimed(load_results(tmp_path / "killed"))
    assert killed == _untimed(load_results(tmp_path / "clean"))
    evals = [(r["seed"], r["step"]) for r in killed if r["kind"] == "eval"]
    assert len(evals) == len(set(evals)) == 8 * 4


def test_ray_backend_gives_the_same_table(tiny_run, tmp_path):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install -e '.[distributed]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}})
    try:
        run_sweep(TASKS, AGENTS, out=tmp_path, backend="ray", progress=False, **TINY)
    finally:
        ray.shutdown()
    assert _untimed(load_results(tmp_path)) == _untimed(load_results(tiny_run))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("change, message", [
    ({"tasks": ["NoSuchTask-v0"]}, "unknown task"),
    ({"agents": ["spiking", "sb3"]}, "unknown agent"),
    ({"budget": 0}, "budget"),
    ({"budget": 100.5}, "budget"),
    ({"eval_every": 500}, "eval_every"),
    ({"seeds": 0}, "seeds"),
    ({"agents": ["spiking:rstdp:hebbian+ne", "twin:action_value+nope"]}, "modulator"),
])
def test_bad_input_fails_before_any_work(tmp_path, change, message):
    args = dict(tasks=TASKS, agents=AGENTS, seeds=2, budget=200, eval_every=100,
                out=tmp_path / "run", progress=False)
    args.update(change)
    with pytest.raises(ValueError, match=message):
        run_sweep(**args)
    assert not (tmp_path / "run" / "config.json").exists()
    assert not list((tmp_path / "run").glob("cells/*.csv"))


def test_unwritable_output_folder_and_foreign_sweep(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match="not writable"):
        run_sweep(TASKS, AGENTS, out=blocker / "run", seeds=1, budget=10, eval_every=5,
                  progress=False)
    prepare_sweep(["CartPole-v1"], ["twin"], 1, 10, 5, tmp_path / "run")
    with pytest.raises(ValueError, match="different sweep"):
        prepare_sweep(["CartPole-v1"], ["twin"], 2, 10, 5, tmp_path / "run")


def test_unknown_backend(tmp_path):
    with pytest.raises(ValueError, match="backend"):
        run_sweep(TASKS, AGENTS, out=tmp_path, backend="dask", progress=False, **TINY)


def test_config_records_everything_to_rerun(tiny_run):
    from neuromod_gym.experiments.io import read_json

    config = read_json(tiny_run / "config.json")
    assert config["sweep"]["budget"] == 200 and config["sweep"]["seeds"] == [0, 1]
    assert config["versions"]["numpy"] == np.__version__
    spiking = config["resolved"]["CartPole-v1"]["spiking"]
    assert spiking["architecture"] == "actor_critic" and "actor_lr" in spiking["params"]
    assert config["resolved"]["CartPole-v1"]["ppo"]["params"]["n_envs"] == 8  # rl-zoo3
