"""Run the slow soak suite (tests/test_soak.py) and print its figures as a markdown table.

    nice -n 10 python scripts/soak.py                 # 1,000,000 ReversalBandit + 200,000 CartPole steps
    python scripts/soak.py --scale 0.01               # a smoke run at 1% of the budgets
    python scripts/soak.py --json runs/soak.json      # also keep the figures as JSON

Exit status: pytest's (0 = every soak held). The table is printed even when a soak fails,
for the soaks that finished.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def table(figures: list[dict]) -> str:
    lines = ["| task | agent | steps | checks | max abs w | bounds | RSS at 10% (MB) | "
             "RSS at 100% (MB) | growth | episodes | wall (s) |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for f in figures:
        lines.append(
            f"| {f['env_id']} | {f['agent']} | {f['steps']:,} | {f['checks']} | "
            f"{f['max_abs_w']:.3f} | [{f['w_bounds'][0]:g}, {f['w_bounds'][1]:g}] | "
            f"{f['rss_10pct_mb']:.1f} | {f['rss_100pct_mb']:.1f} | "
            f"{f['rss_growth_pct']:+.2f}% | {f['episodes']:,} | {f['wall_s']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every soak budget (default 1: the full soak)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if not args.scale > 0:
        parser.error(f"--scale must be > 0, got {args.scale}")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "soak.json"
        env = {**os.environ, "NEUROMOD_SOAK_SCALE": repr(args.scale),
               "NEUROMOD_SOAK_REPORT": str(report)}
        status = subprocess.call([sys.executable, "-m", "pytest", "-m", "slow", "-p",
                                  "no:cacheprovider", "-q", "-s", "tests/test_soak.py"],
                                 cwd=ROOT, env=env)
        figures = json.loads(report.read_text()) if report.exists() else []
    print()
    print(table(figures))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
