"""Statistics of a run folder, rliable practice: never a single seed.

Per task and agent, across seeds (one number per seed first, then aggregated):

* final performance: the evaluation return at the end of the budget (``final``), and the
  online training return: mean return of the training episodes that ended in the last
  10% of the budget (``online``; for tasks whose learners adapt through plasticity, e.g.
  reversal learning, this is what the learner achieves while it learns);
* IQM (interquartile mean, ``scipy.stats.trim_mean(x, 0.25)``: rliable's definition; with
  fewer than 4 seeds nothing is trimmed and it equals the mean) and mean, each with a
  95% percentile-bootstrap CI over seeds (``scipy.stats.bootstrap``, 10,000 resamples,
  fixed random state: same data, same interval);
* steps-to-threshold: first evaluation step whose return reaches the task's threshold
  (per seed; median over seeds, not-reached seeds count as infinite);
* probability of improvement P(X > Y) (+ 1/2 P(X = Y)) between every pair of agents on a
  task, from the seeds' final returns, with a bootstrap CI.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
from scipy import stats

__all__ = ["THRESHOLDS", "iqm", "bootstrap_ci", "probability_of_improvement",
           "steps_to_threshold", "summarize", "summary_markdown", "write_summary"]

THRESHOLDS = {
    "CartPole-v1": 475.0,  # the Gym "solved" level
    "neuromod_gym/ReversalBandit-v0": 600.0,  # 0.6 reward per trial over a 1,000-trial episode
}
"""Default steps-to-threshold levels (evaluation return); override per task."""
ONLINE_FRACTION = 0.1
N_RESAMPLES = 10_000


def iqm(scores, axis: int = -1):
    """Interquartile mean: the mean of the middle 50% (``trim_mean(scores, 0.25)``)."""
    return stats.trim_mean(np.asarray(scores, dtype=float), 0.25, axis=axis)


def bootstrap_ci(scores, statistic: Callable = iqm, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap CI of ``statistic`` over ``scores`` (one per seed).

    One score gives (nan, nan); identical scores give (score, score)."""
    x = np.asarray(scores, dtype=float)
    if x.size < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    result = stats.bootstrap((x,), statistic, n_resamples=N_RESAMPLES,
                             confidence_level=confidence, method="percentile",
                             vectorized=True, axis=-1, random_state=np.random.default_rng(seed))
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def probability_of_improvement(x, y) -> float:
    """P(X > Y) + 0.5 P(X = Y) over all pairs of a score of X and a score of Y."""
    x = np.asarray(x, dtype=float)[:, None]
    y = np.asarray(y, dtype=float)[None, :]
    return float(np.mean((x > y) + 0.5 * (x == y)))


def _poi_ci(x, y, seed: int = 0) -> tuple[float, float]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or y.size < 2:
        return (math.nan, math.nan)
    if np.all(np.concatenate([x, y]) == x[0]):
        return (0.5, 0.5)

    def statistic(a, b, axis=-1):
        return np.mean((a[..., :, None] > b[..., None, :])
                       + 0.5 * (a[..., :, None] == b[..., None, :]), axis=(-1, -2))

    result = stats.bootstrap((x, y), statistic, n_resamples=N_RESAMPLES, method="percentile",
                             vectorized=True, axis=-1, random_state=np.random.default_rng(seed))
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def steps_to_threshold(steps, returns, threshold: float) -> float:
    """First step whose return is >= threshold; ``inf`` when never reached."""
    for step, value in zip(steps, returns):
        if value >= threshold:
            return float(step)
    return math.inf


def _num(value: str) -> float:
    return float(value) if value not in ("", None) else math.nan


def summarize(rows: list[dict[str, str]], thresholds: dict[str, float] | None = None
              ) -> dict[str, Any]:
    """Statistics of ``results.csv`` rows -> ``{"tasks": {task: {"agents": {agent: {...}},
    "improvement": [...]}}}`` (numbers; ``inf`` = threshold not reached)."""
    thresholds = {**THRESHOLDS, **(thresholds or {})}
    out: dict[str, Any] = {"tasks": {}}
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    for task in tasks:
        task_rows = [r for r in rows if r["task"] == task]
        agents = list(dict.fromkeys(r["agent"] for r in task_rows))
        threshold = thresholds.get(task)
        per_agent: dict[str, Any] = {}
        for agent in agents:
            a_rows = [r for r in task_rows if r["agent"] == agent]
            seeds = sorted({int(r["seed"]) for r in a_rows})
            budget = max(int(r["step"]) for r in a_rows if r["kind"] == "eval")
            final, online, to_threshold, curves = [], [], [], {}
            for seed in seeds:
                evals = sorted(((int(r["step"]), _num(r["eval_return"])) for r in a_rows
                                if r["kind"] == "eval" and int(r["seed"]) == seed))
                steps, values = [s for s, _ in evals], [v for _, v in evals]
                curves[seed] = (steps, values)
                final.append(values[-1])
                train = [_num(r["return"]) for r in a_rows if r["kind"] == "train"
                         and int(r["seed"]) == seed
                         and int(r["step"]) > (1 - ONLINE_FRACTION) * budget]
                online.append(float(np.mean(train)) if train else math.nan)
                if threshold is not None:
                    to_threshold.append(steps_to_threshold(steps, values, threshold))
            entry = {
                "seeds": seeds, "budget": budget, "final": final, "online": online,
                "final_iqm": float(iqm(final)), "final_iqm_ci": bootstrap_ci(final, iqm),
                "final_mean": float(np.mean(final)), "final_mean_ci": bootstrap_ci(final, np.mean),
                "curves": curves,
            }
            finite_online = [v for v in online if not math.isnan(v)]
            entry["online_iqm"] = float(iqm(finite_online)) if finite_online else math.nan
            entry["online_iqm_ci"] = bootstrap_ci(finite_online, iqm)
            if threshold is not None:
                entry["threshold"] = threshold
                entry["steps_to_threshold"] = to_threshold
                entry["steps_to_threshold_median"] = float(np.median(to_threshold))
            per_agent[agent] = entry
        improvement = []
        for i, a in enumerate(agents):
            for b in agents[i + 1:]:
                x, y = per_agent[a]["final"], per_agent[b]["final"]
                improvement.append({"x": a, "y": b, "p": probability_of_improvement(x, y),
                                    "ci": _poi_ci(x, y)})
        out["tasks"][task] = {"agents": per_agent, "improvement": improvement,
                              "threshold": threshold}
    return out


def _fmt(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "not reached"
    return f"{value:,.{digits}f}"


def _ci(ci: tuple[float, float], digits: int = 1) -> str:
    if any(math.isnan(c) for c in ci):
        return "n/a"
    return f"[{_fmt(ci[0], digits)}, {_fmt(ci[1], digits)}]"


def summary_markdown(summary: dict[str, Any], config: dict[str, Any] | None = None) -> str:
    """Paste-ready markdown tables of :func:`summarize`'s output."""
    lines = ["# Comparison summary", ""]
    if config:
        s = config["sweep"]
        lines += [f"Budget {s['budget']:,} env steps per run, evaluation every "
                  f"{s['eval_every']:,} steps ({s['eval_episodes']} deterministic episodes on "
                  f"a separate env, plasticity and gradients frozen, seeds 10,000+), seeds "
                  f"{', '.join(map(str, s['seeds']))}. IQM and mean over seeds with 95% "
                  "percentile-bootstrap CIs (scipy.stats.bootstrap).", ""]
    for task, t in summary["tasks"].items():
        lines += [f"## {task}", ""]
        threshold = t["threshold"]
        head = "| agent | n | final eval return IQM [95% CI] | mean [95% CI] | online return (last 10%) IQM [95% CI] |"
        sep = "|---|---|---|---|---|"
        if threshold is not None:
            head += f" steps to eval >= {threshold:g}: median (reached) |"
            sep += "---|"
        lines += [head, sep]
        for agent, a in t["agents"].items():
            line = (f"| {agent} | {len(a['seeds'])} | {_fmt(a['final_iqm'])} {_ci(a['final_iqm_ci'])} | "
                    f"{_fmt(a['final_mean'])} {_ci(a['final_mean_ci'])} | "
                    f"{_fmt(a['online_iqm'])} {_ci(a['online_iqm_ci'])} |")
            if threshold is not None:
                reached = sum(math.isfinite(s) for s in a["steps_to_threshold"])
                line += (f" {_fmt(a['steps_to_threshold_median'], 0)} "
                         f"({reached}/{len(a['seeds'])}) |")
            lines.append(line)
        lines += ["", "Per seed (final eval return; online return; steps to threshold):", ""]
        lines += ["| agent | seed | final eval | online | steps to threshold |", "|---|---|---|---|---|"]
        for agent, a in t["agents"].items():
            for k, seed in enumerate(a["seeds"]):
                steps = a["steps_to_threshold"][k] if threshold is not None else math.nan
                lines.append(f"| {agent} | {seed} | {_fmt(a['final'][k])} | {_fmt(a['online'][k])} | "
                             f"{_fmt(steps, 0)} |")
        if t["improvement"]:
            lines += ["", "Probability of improvement (final eval return, P(X > Y) + P(X = Y)/2):",
                      "", "| X | Y | P(X > Y) [95% CI] |", "|---|---|---|"]
            for imp in t["improvement"]:
                lines.append(f"| {imp['x']} | {imp['y']} | {_fmt(imp['p'], 2)} {_ci(imp['ci'], 2)} |")
        lines.append("")
    return "\n".join(lines)


def write_summary(run_dir: str | os.PathLike, thresholds: dict[str, float] | None = None) -> Path:
    """Write ``run_dir/summary.md`` (atomically) from its results.csv; -> its path."""
    from neuromod_gym.experiments.io import atomic_write_text, read_json
    from neuromod_gym.experiments.sweep import load_results

    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json") if (run_dir / "config.json").exists() else None
    text = summary_markdown(summarize(load_results(run_dir), thresholds), config)
    return atomic_write_text(run_dir / "summary.md", text)
