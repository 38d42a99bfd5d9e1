"""The ``neuromod-gym`` command.

    neuromod-gym list
    neuromod-gym compare --tasks ReversalBandit-v0 CartPole-v1 --agents spiking ppo \\
        --seeds 3 --budget 20000 --eval-every 4000 --out runs/compare [--workers 2] \\
        [--backend local|ray] [--address ADDR] [--rerun RUN_DIR]
    neuromod-gym train --task CartPole-v1 --agent spiking --seed 0 --budget 20000 --out runs/one
    neuromod-gym plot RUN_DIR

Every command checks its arguments (task and agent names, budgets, output folder) before
any work starts and exits with status 2 and a one-line reason when they are wrong.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path


def _list(_args: argparse.Namespace) -> int:
    import neuromod_gym
    from agents.architectures import ARCHITECTURES
    from agents.baselines import BASELINES, baselines_available
    from agents.rules import rule_names
    from agents.spiking_agent import SpikingAgent

    print("tasks (also any Gymnasium id with Discrete or Box actions, e.g. CartPole-v1):")
    for env_id in neuromod_gym.task_ids():
        print(f"  {env_id}")
    print("agents:  spiking[:ARCHITECTURE[:RULE]][+ne|+ach|+tonic_ne|-da|+shuffled_da]  "
          "twin[:ARCHITECTURE]  " + "  ".join(BASELINES))
    print(f"architectures: {', '.join(ARCHITECTURES)}")
    print(f"spiking agent rules: {', '.join(SpikingAgent.rules)}")
    print(f"engine plasticity rules (agents.rules): {', '.join(rule_names())}")
    state = "installed" if baselines_available() else "not installed: pip install -e '.[baselines]'"
    print(f"baselines (stable-baselines3, {state}): {', '.join(BASELINES)}")
    return 0


def _thresholds(pairs: list[str] | None) -> dict[str, float]:
    from neuromod_gym.experiments.sweep import resolve_task

    out = {}
    for pair in pairs or []:
        task, sep, value = pair.rpartition("=")
        if not sep:
            raise ValueError(f"--threshold takes TASK=VALUE, got {pair!r}")
        try:
            out[resolve_task(task)] = float(value)
        except ValueError as error:
            raise ValueError(f"--threshold {pair!r}: {error}") from None
    return out


def _finish(out: Path, thresholds: dict[str, float]) -> None:
    from neuromod_gym.experiments.statistics import write_summary
    from neuromod_gym.plotting import plot_run

    summary = write_summary(out, thresholds)
    paths = plot_run(out, thresholds)
    print(summary.read_text())
    print(f"wrote {out}/config.json, results.csv, summary.md, "
          + ", ".join(str(p.relative_to(out)) for p in paths))


def _compare(args: argparse.Namespace) -> int:
    from neuromod_gym.experiments.sweep import rerun, run_sweep

    thresholds = _thresholds(args.threshold)
    command = "neuromod-gym " + shlex.join(args.argv)
    if args.rerun:
        out = Path(args.out or args.rerun)
        rerun(args.rerun, out, backend=args.backend, workers=args.workers, address=args.address)
    else:
        missing = [name for name in ("tasks", "agents", "budget", "eval_every", "out")
                   if getattr(args, name) is None]
        if missing:
            raise ValueError("compare needs " + ", ".join("--" + m.replace("_", "-")
                                                          for m in missing) + " (or --rerun)")
        out = Path(args.out)
        run_sweep(args.tasks, args.agents, args.seeds, args.budget, args.eval_every, out,
                  eval_episodes=args.eval_episodes, backend=args.backend,
                  workers=args.workers, address=args.address, command=command)
    _finish(out, thresholds)
    return 0


def _train(args: argparse.Namespace) -> int:
    from neuromod_gym.experiments.io import write_csv
    from neuromod_gym.experiments.sweep import COLUMNS, cell_path, prepare_sweep, train_cell

    out = Path(args.out)
    config = prepare_sweep([args.task], [args.agent], [args.seed], args.budget,
                           args.eval_every or args.budget, out, args.eval_episodes,
                           command="neuromod-gym " + shlex.join(args.argv))
    sweep = config["sweep"]
    task, agent_name = sweep["tasks"][0], sweep["agents"][0]
    resolved = config["resolved"][task][agent_name]
    agent, rows = train_cell(task, agent_name, resolved, args.seed,
                             sweep["budget"], sweep["eval_every"], sweep["eval_episodes"],
                             progress_bar=True)
    write_csv(cell_path(out, task, agent_name, args.seed), rows, COLUMNS)
    write_csv(out / "results.csv", rows, COLUMNS)
    checkpoint = agent.save(out / "agent")
    print(f"checkpoint: {checkpoint}")
    _finish(out, _thresholds(args.threshold))
    if resolved["kind"] in ("spiking", "twin"):
        from neuromod_gym.experiments.sweep import build_agent
        from neuromod_gym.plotting import plot_episode

        initial = build_agent(task, resolved["kind"], resolved, args.seed).weights
        print(f"wrote {plot_episode(agent, initial, out / 'plots' / 'episode.png')}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    out = Path(args.run_dir)
    if not (out / "results.csv").exists():
        raise ValueError(f"{out}: no results.csv (not a run folder)")
    _finish(out, _thresholds(args.threshold))
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neuromod-gym", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="tasks, agents, architectures, rules, baselines"
                        ).set_defaults(handler=_list)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--eval-episodes", type=_positive_int, default=10,
                       help="deterministic evaluation episodes per evaluation (default 10)")
        p.add_argument("--threshold", nargs="+", metavar="TASK=VALUE",
                       help="steps-to-threshold level of a task's eval return")

    compare = commands.add_parser("compare", help="the sweep: tasks x agents x seeds")
    compare.add_argument("--tasks", nargs="+", help="task ids (ReversalBandit-v0, CartPole-v1, ...)")
    compare.add_argument("--agents", nargs="+", help="agent names (see `neuromod-gym list`)")
    compare.add_argument("--seeds", type=_positive_int, default=3, help="seeds 0..N-1 (default 3)")
    compare.add_argument("--budget", type=_positive_int, help="training env steps per run")
    compare.add_argument("--eval-every", type=_positive_int, help="env steps between evaluations")
    compare.add_argument("--out", help="run folder (rerunning into it resumes)")
    compare.add_argument("--backend", choices=("local", "ray"), default="local")
    compare.add_argument("--address", default=None, help="Ray cluster address (backend ray)")
    compare.add_argument("--workers", type=_positive_int, default=1,
                         help="parallel runs (processes, or Ray CPUs when starting Ray)")
    compare.add_argument("--rerun", metavar="RUN_DIR",
                         help="rerun the sweep in RUN_DIR/config.json (into --out, default RUN_DIR)")
    common(compare)
    compare.set_defaults(handler=_compare)

    train = commands.add_parser("train", help="one agent on one task, with a checkpoint")
    train.add_argument("--task", required=True)
    train.add_argument("--agent", required=True)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--budget", type=_positive_int, required=True)
    train.add_argument("--eval-every", type=_positive_int, default=None,
                       help="default: only at the start and the end")
    train.add_argument("--out", required=True)
    common(train)
    train.set_defaults(handler=_train)

    plot = commands.add_parser("plot", help="summary.md and figures of a run folder")
    plot.add_argument("run_dir")
    plot.add_argument("--threshold", nargs="+", metavar="TASK=VALUE")
    plot.set_defaults(handler=_plot)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.handler(args)
    except ValueError as error:
        print(f"neuromod-gym {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
