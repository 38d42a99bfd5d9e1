#!/usr/bin/env python3
"""Brzosko et al. (2017): with ACh during exploration and DA at the goal, agents unlearn a
moved goal and find the new one faster than with DA alone.

Paper: Z. Brzosko, S. Zannone, W. Schultz, C. Clopath & O. Paulsen (2017), Sequential
neuromodulation of Hebbian plasticity offers mechanism for effective reward-based
navigation, eLife 6:e27756 (goal-switch simulations; published numbers unverified offline).
The model (121 place cells -> ring of 40 LIF action neurons, plastic feed-forward weights
under the ``brzosko`` rule: symmetric STDP eligibility, tau_e = 2 s,
dw/dt = eta (g_DA DA - g_ACh ACh) c) is in ``brzosko_2017_model.py``, whose docstring gives
the equations, the parameters with units and which of them are model choices. Task:
``OpenFieldNavigation-v0`` (4 x 4 a.u., goal radius 0.3 a.u., 15 s trials, four release
points), 40 trials per agent, the goal mirrored through the centre from trial 21 on
(1-based). Conditions, the same agent seeds (initial weights, noise) in both:

* ``ACh+DA``: ACh = 1 on every step of exploration, a DA pulse at the goal;
* ``DA only``: no ACh, the same DA pulse.

Acceptance criterion (issue 7 item 5; full run, 20 agents per condition): both conditions
find the goal in >= 80 % of trials 11-20 (all agents pooled); in trials 31-40 the ACh+DA
agents' mean latency is >= 20 % lower than the DA-only agents' AND a one-sided
Mann-Whitney U test on the per-agent mean latencies of trials 31-40 gives p < 0.05.
``--quick`` (CI, 6 agents per condition; conservative): in each condition the mean latency
of trials 11-20 is below that of trials 1-5 in at least 4 of 6 agents (the first goal is
learned), and the ACh+DA mean latency in trials 31-40 is below the DA-only one.

    python scripts/reproduce/brzosko_2017_goal_switch.py --seeds 20
    python scripts/reproduce/brzosko_2017_goal_switch.py --quick

Prints the criterion, one line per agent and condition, the verdicts and a BENCHMARKS.md
row; writes ``docs/figures/brzosko_2017_goal_switch.png``; exit status 1 on FAIL. Agents
run on a process pool (``--threads``, default 2), one numba thread per worker.
"""
from __future__ import annotations

import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import brzosko_2017_model as model
import izhikevich_2007_model as shared
import numpy as np
from scipy.stats import mannwhitneyu
from tqdm import tqdm

CONDITIONS = {"ACh+DA": True, "DA only": False}
AGENTS_PER_JOB = 2            # agents run in lock step in one engine population per job
LEARNED_TRIALS = slice(10, 20)    # trials 11-20 (1-based)
EARLY_TRIALS = slice(0, 5)        # trials 1-5
LATE_TRIALS = slice(30, 40)       # trials 31-40
MIN_SUCCESS = 0.8
MIN_REDUCTION = 0.2
ALPHA = 0.05
QUICK_MIN_LEARNERS = 4            # of 6 agents


def _init_worker() -> None:
    import numba

    numba.set_num_threads(1)  # the pool gives the parallelism; one thread per worker


def _job(acetylcholine: bool, seeds: list[int]):
    return acetylcholine, model.run_agents(seeds, acetylcholine, record_paths=True,
                                           progress=False)


def run_all(seeds: list[int], workers: int):
    """Both conditions for every seed -> {condition: merged run_agents output}."""
    jobs = [(ach, seeds[i:i + AGENTS_PER_JOB]) for ach in CONDITIONS.values()
            for i in range(0, len(seeds), AGENTS_PER_JOB)]
    parts = {ach: [] for ach in CONDITIONS.values()}
    bar = tqdm(total=2 * len(seeds), unit="agent", desc="agents (40 trials each)",
               file=sys.stderr, disable=os.environ.get("TQDM_DISABLE") == "1")
    with ProcessPoolExecutor(workers, initializer=_init_worker) as pool:
        futures = [pool.submit(_job, ach, chunk) for ach, chunk in jobs]
        for future in as_completed(futures):
            ach, out = future.result()
            parts[ach].append(out)
            bar.update(len(out["seeds"]))
    bar.close()
    merged = {}
    for name, ach in CONDITIONS.items():
        outs = sorted(parts[ach], key=lambda o: o["seeds"][0])  # seed order, as submitted
        merged[name] = {
            "seeds": [s for o in outs for s in o["seeds"]],
            "latency_ms": np.concatenate([o["latency_ms"] for o in outs]),
            "success": np.concatenate([o["success"] for o in outs]),
            "goals": [g for o in outs for g in o["goals"]],
            "paths": [p for o in outs for p in o["paths"]],
        }
    return merged


def summarise(results) -> dict:
    out = {}
    for name, r in results.items():
        lat = r["latency_ms"] / 1000.0
        out[name] = {
            "success_11_20": float(r["success"][:, LEARNED_TRIALS].mean()),
            "late_per_agent": lat[:, LATE_TRIALS].mean(axis=1),
            "learned_per_agent": lat[:, LEARNED_TRIALS].mean(axis=1),
            "early_per_agent": lat[:, EARLY_TRIALS].mean(axis=1),
            "success_31_40": float(r["success"][:, LATE_TRIALS].mean()),
        }
    return out


def plot(results, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"ACh+DA": "tab:red", "DA only": "tab:blue"}
    fig = plt.figure(figsize=(13, 7.5))
    grid = fig.add_gridspec(2, 4, height_ratios=[1.15, 1])
    ax = fig.add_subplot(grid[0, :])
    for name, r in results.items():
        lat = r["latency_ms"] / 1000.0
        trials = np.arange(1, lat.shape[1] + 1)
        q25, med, q75 = np.percentile(lat, [25, 50, 75], axis=0)
        ax.plot(trials, med, "-o", ms=3, color=colours[name],
                label=f"{name} (median, IQR; {lat.shape[0]} agents)")
        ax.fill_between(trials, q25, q75, color=colours[name], alpha=0.2)
    ax.axvline(model.SWITCH_TRIAL + 0.5, color="k", ls="--", lw=1)
    ax.text(model.SWITCH_TRIAL + 0.7, 0.4, "goal moved", va="bottom", fontsize=9)
    ax.set_xlabel("trial")
    ax.set_ylabel("escape latency (s; 15 = time-out)")
    ax.set_ylim(0, model.TRIAL_TIMEOUT_MS / 1000 + 0.5)
    ax.set_title("Brzosko et al. (2017) goal switch with the engine: 121 place cells -> "
                 "ring of 40 LIF action neurons, brzosko rule")
    ax.legend(loc="upper left", fontsize=9)
    # example paths of the first agent of each condition: the last trial before the
    # switch and the last trial
    half = model.ARENA_HALF_SIZE
    panels = [(name, trial) for name in results for trial in (model.SWITCH_TRIAL - 1, -1)]
    for k, (name, trial) in enumerate(panels):
        r = results[name]
        first_goal, new_goal = r["goals"][0]
        paths = r["paths"][0]
        trial = trial % len(paths)
        ax = fig.add_subplot(grid[1, k])
        p = paths[trial]
        ax.plot(p[:, 0], p[:, 1], color=colours[name], lw=0.8)
        ax.plot(p[0, 0], p[0, 1], "ko", ms=3)
        for goal, style in ((first_goal, "--"), (new_goal, "-")):
            if goal is not None:
                ax.add_patch(plt.Circle(goal, 0.3, fill=False, ls=style, color="k"))
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name}, seed {r['seeds'][0]}, trial {trial + 1}: "
                     f"{r['latency_ms'][0, trial] / 1000:.1f} s", fontsize=9)
    fig.text(0.5, 0.005, "paths: black dot = release point; dashed circle = first goal, "
             "solid = moved goal", ha="center", fontsize=8)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    shared.save_figure(fig, path, dpi=110)


def parse_args(argv=None):
    """The reproductions' shared command line (``izhikevich_2007_model.parse_run_args``):
    ``--seeds`` = agents per condition (default 20; quick 6), ``--threads`` = worker
    processes; ``--duration-s`` does not apply here (trials, not seconds) and is refused."""
    args, _, _ = shared.parse_run_args(__doc__.split("\n\n")[0], "brzosko_2017_goal_switch.png",
                                       argv)
    if args.duration_s is not None:
        raise ValueError(f"--duration-s does not apply (40 trials per agent), got {args.duration_s}")
    n = args.seeds if args.seeds is not None else (6 if args.quick else 20)
    if n < 2:
        raise ValueError(f"--seeds must be >= 2 (a Mann-Whitney test needs agents), got {n}")
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    return args, list(range(n))


def main(argv=None) -> int:
    args, seeds = parse_args(argv)
    n = len(seeds)
    if args.quick:
        print(f"CRITERION (quick, {n} agents per condition): in each condition the mean latency "
              f"of trials 11-20 is below that of trials 1-5 in >= {QUICK_MIN_LEARNERS} of {n} "
              f"agents; ACh+DA mean latency in trials 31-40 below DA only.")
    else:
        print(f"CRITERION ({n} agents per condition): both conditions find the goal in >= "
              f"{MIN_SUCCESS:.0%} of trials 11-20; in trials 31-40 the ACh+DA mean latency is "
              f">= {MIN_REDUCTION:.0%} lower than DA only, one-sided Mann-Whitney U on the "
              f"per-agent means p < {ALPHA}.")
    start = time.time()
    results = run_all(seeds, args.threads)
    wall_s = time.time() - start
    # CPU seconds of the finished workers: unlike wall time, hardly inflated by other
    # users' load on a shared machine (their sum / 2 ~ the wall time on 2 idle cores)
    cpu_s = sum(getattr(resource.getrusage(resource.RUSAGE_CHILDREN), f)
                for f in ("ru_utime", "ru_stime"))
    stats = summarise(results)
    for name, r in results.items():
        s = stats[name]
        for i, seed in enumerate(r["seeds"]):
            print(f"  {name:7s} seed {seed:2d}  mean latency (s) trials 1-5 "
                  f"{s['early_per_agent'][i]:5.2f}  11-20 {s['learned_per_agent'][i]:5.2f}  "
                  f"31-40 {s['late_per_agent'][i]:5.2f}  found 11-20 "
                  f"{int(r['success'][i, LEARNED_TRIALS].sum())}/10  31-40 "
                  f"{int(r['success'][i, LATE_TRIALS].sum())}/10")
    ach, da = stats["ACh+DA"], stats["DA only"]
    late_ach = float(ach["late_per_agent"].mean())
    late_da = float(da["late_per_agent"].mean())
    reduction = 1.0 - late_ach / late_da
    p_value = float(mannwhitneyu(ach["late_per_agent"], da["late_per_agent"],
                                 alternative="less").pvalue)
    print(f"wall time {wall_s:.0f} s ({args.threads} workers; an upper bound on a shared "
          f"machine); CPU time of the workers {cpu_s:.0f} s")
    ok = True
    if args.quick:
        for name in CONDITIONS:
            s = stats[name]
            learners = int(np.sum(s["learned_per_agent"] < s["early_per_agent"]))
            passed = learners >= QUICK_MIN_LEARNERS
            print(f"{shared.verdict(passed)}  {name}: latency 11-20 below 1-5 in {learners}/{n} "
                  f"agents (need >= {QUICK_MIN_LEARNERS}); found the goal in "
                  f"{s['success_11_20']:.0%} of trials 11-20")
            ok &= passed
        passed = late_ach < late_da
        print(f"{shared.verdict(passed)}  trials 31-40 mean latency: ACh+DA {late_ach:.2f} s vs "
              f"DA only {late_da:.2f} s ({reduction:.0%} lower; Mann-Whitney p = {p_value:.3g}, "
              f"not part of the quick criterion)")
        ok &= passed
    else:
        for name in CONDITIONS:
            passed = stats[name]["success_11_20"] >= MIN_SUCCESS
            print(f"{shared.verdict(passed)}  {name}: found the goal in "
                  f"{stats[name]['success_11_20']:.1%} of trials 11-20 (need >= {MIN_SUCCESS:.0%})")
            ok &= passed
        passed = reduction >= MIN_REDUCTION and p_value < ALPHA
        print(f"{shared.verdict(passed)}  trials 31-40 mean latency: ACh+DA {late_ach:.2f} s vs "
              f"DA only {late_da:.2f} s: {reduction:.1%} lower (need >= {MIN_REDUCTION:.0%}), "
              f"one-sided Mann-Whitney p = {p_value:.3g} (need < {ALPHA})")
        ok &= passed
        print("\nBENCHMARKS.md row:")
        print(f"| Brzosko et al. (2017) goal switch | ACh during exploration + DA at the goal "
              f"unlearns a moved goal faster than DA alone ({n} agents each) | found in trials "
              f"11-20: ACh+DA {ach['success_11_20']:.1%}, DA only {da['success_11_20']:.1%}; "
              f"mean latency trials 31-40: {late_ach:.2f} s vs {late_da:.2f} s "
              f"({reduction:.0%} lower, Mann-Whitney p = {p_value:.2g}) | "
              f"{shared.verdict(ok)} |")
    return shared.finish(args, ok, lambda path: plot(results, path))


if __name__ == "__main__":
    sys.exit(main())
