"""The ``neuromod-gym`` command."""

from __future__ import annotations

import argparse
import sys


def _list(_args: argparse.Namespace) -> int:
    import neuromod_gym

    print("tasks:")
    for env_id in neuromod_gym.task_ids():
        print(f"  {env_id}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from neuromod_gym.experiments.demo import run_demo

    run_demo(args.out, seeds=args.seeds, n_trials=args.trials)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neuromod-gym", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the registered tasks").set_defaults(handler=_list)
    demo = commands.add_parser("demo", help="learners on ReversalBandit-v0, with figures")
    demo.add_argument("--out", default="runs/demo", help="run folder to write (default: runs/demo)")
    demo.add_argument("--seeds", type=int, default=3, help="seeds per agent (default: 3)")
    demo.add_argument("--trials", type=int, default=4000, help="trials per run (default: 4000)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:
        print(f"neuromod-gym {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
