"""Figures of a run folder (matplotlib, Agg): ``plot_run(run_dir)`` writes

* ``plots/learning_curves.png``: per task, the evaluation return (top) and the online
  training return (bottom, episodes binned per evaluation interval) against env steps,
  IQM over seeds with a 95% bootstrap CI band (:mod:`neuromod_gym.experiments.statistics`);
* ``plots/final_iqm.png``: per task, each agent's final evaluation IQM with its 95% CI.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = ["plot_run", "plot_learning_curves", "plot_final_iqm"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _band(ax, steps, per_seed: np.ndarray, label: str, color) -> None:
    from neuromod_gym.experiments.statistics import bootstrap_ci, iqm

    centre, low, high = [], [], []
    for column in per_seed.T:
        column = column[~np.isnan(column)]
        if column.size == 0:
            centre.append(np.nan), low.append(np.nan), high.append(np.nan)
            continue
        centre.append(float(iqm(column)))
        lo, hi = bootstrap_ci(column, iqm)
        low.append(centre[-1] if math.isnan(lo) else lo)
        high.append(centre[-1] if math.isnan(hi) else hi)
    ax.plot(steps, centre, label=label, color=color, lw=1.8)
    ax.fill_between(steps, low, high, color=color, alpha=0.2, lw=0)


def plot_learning_curves(rows, summary, path: str | os.PathLike) -> Path:
    plt = _pyplot()
    tasks = list(summary["tasks"])
    fig, axes = plt.subplots(2, len(tasks), figsize=(5.5 * len(tasks), 7), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for col, task in enumerate(tasks):
        t = summary["tasks"][task]
        for k, (agent, a) in enumerate(t["agents"].items()):
            color = colors[k % len(colors)]
            steps = a["curves"][a["seeds"][0]][0]
            values = np.array([a["curves"][s][1] for s in a["seeds"]], dtype=float)
            _band(axes[0, col], steps, values, f"{agent} (n={len(a['seeds'])})", color)
            # online: training episodes binned by the evaluation interval they ended in
            edges = np.asarray(steps, dtype=float)
            online = np.full((len(a["seeds"]), len(edges) - 1), np.nan)
            for i, seed in enumerate(a["seeds"]):
                ends, rets = [], []
                for r in rows:
                    if (r["task"] == task and r["agent"] == agent and r["kind"] == "train"
                            and int(r["seed"]) == seed):
                        ends.append(float(r["step"]))
                        rets.append(float(r["return"]))
                if ends:
                    which = np.clip(np.searchsorted(edges, ends, side="left") - 1, 0,
                                    len(edges) - 2)
                    for b in range(len(edges) - 1):
                        chosen = np.asarray(rets)[which == b]
                        if chosen.size:
                            online[i, b] = chosen.mean()
            _band(axes[1, col], edges[1:], online, agent, color)
        if t["threshold"] is not None:
            axes[0, col].axhline(t["threshold"], color="grey", ls="--", lw=0.8,
                                 label=f"threshold {t['threshold']:g}")
        axes[0, col].set_title(f"{task}\nevaluation (deterministic, frozen, separate env)")
        axes[0, col].set_ylabel("eval return (IQM, 95% CI)")
        axes[1, col].set_title("online training return (episodes ending in each interval)")
        axes[1, col].set_ylabel("episode return (IQM, 95% CI)")
        axes[1, col].set_xlabel("env steps")
        axes[0, col].legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_final_iqm(summary, path: str | os.PathLike) -> Path:
    plt = _pyplot()
    tasks = list(summary["tasks"])
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 1.4 + 0.6 * max(
        len(t["agents"]) for t in summary["tasks"].values())), squeeze=False)
    for col, task in enumerate(tasks):
        ax = axes[0, col]
        agents = list(summary["tasks"][task]["agents"].items())
        for y, (agent, a) in enumerate(agents):
            lo, hi = a["final_iqm_ci"]
            if math.isnan(lo):
                lo = hi = a["final_iqm"]
            ax.barh(y, hi - lo, left=lo, height=0.6, color=f"C{y}", alpha=0.45)
            ax.plot([a["final_iqm"]] * 2, [y - 0.3, y + 0.3], color=f"C{y}", lw=2)
            ax.plot(a["final"], [y] * len(a["final"]), "k.", ms=4)
        ax.set_yticks(range(len(agents)), [a for a, _ in agents])
        ax.margins(x=0.08)
        ax.invert_yaxis()
        ax.set_xlabel("final eval return: IQM (line), 95% CI (bar), seeds (dots)")
        ax.set_title(task, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_run(run_dir: str | os.PathLike, thresholds: dict[str, float] | None = None
             ) -> list[Path]:
    """Write the run folder's figures into ``run_dir/plots/``; -> their paths."""
    from neuromod_gym.experiments.statistics import summarize
    from neuromod_gym.experiments.sweep import load_results

    run_dir = Path(run_dir)
    rows = load_results(run_dir)
    summary = summarize(rows, thresholds)
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    # savefig to a temp name, then rename: a killed run never leaves half a PNG
    paths = []
    for name, draw in (("learning_curves.png", lambda p: plot_learning_curves(rows, summary, p)),
                       ("final_iqm.png", lambda p: plot_final_iqm(summary, p))):
        tmp = plots / f".{name}.tmp.png"
        draw(tmp)
        os.replace(tmp, plots / name)
        paths.append(plots / name)
    return paths


def plot_episode(agent, initial_weights: np.ndarray, path: str | os.PathLike,
                 n_steps: int = 200) -> Path:
    """Episode figure of a spiking (or twin) agent: ``n_steps`` further training steps
    (plasticity on) recorded on one time axis: output spike raster (spiking agent only),
    the DA third factor (TD error), ACh and NE levels, reward and task events; plus the
    weight distribution at initialisation (``initial_weights``) and now.

    Reads the agent's public ``weights``, ``modulation.system.levels`` and ``learn``'s
    callback locals; the raster reads the engine's spike buffer through the agent's
    private ``_learner`` (absent: no raster).
    """
    plt = _pyplot()
    learner = getattr(agent, "_learner", None)
    net = getattr(learner, "net", None)
    dt_ms = float(getattr(agent.params, "dt_ms", 1.0))
    step_ms = float(getattr(agent.params, "step_ms", 1.0))
    t, da, ach, ne, reward, events = [], [], [], [], [], []
    spike_t, spike_id = [], []
    start = agent.num_timesteps

    def record(local, _globals) -> bool:
        k = agent.num_timesteps - start
        t.append(k * step_ms)
        levels = agent.modulation.system.levels
        da.append(float(local.get("dopamine", 0.0)))
        ach.append(float(levels.get("ACh", 0.0)))
        ne.append(float(levels.get("NE", 0.0)))
        reward.append(float(local.get("reward", 0.0)))
        events.append(tuple(local.get("info", {}).get("events", ())))
        if net is not None:
            times, ids = net.spikes(0)
            window = int(round(step_ms / dt_ms))
            keep = (times >= net.t - window) & (ids >= learner.outputs.start)
            # the window just run belongs to step k (spike times relative to its start)
            spike_t.extend((k + (times[keep] - (net.t - window)) * dt_ms / step_ms) * step_ms)
            spike_id.extend(ids[keep] - learner.outputs.start)
        return True

    agent.learn(n_steps, callback=record)
    rows = 4 if net is not None else 3
    fig = plt.figure(figsize=(11, 2.2 * rows + 2.4))
    grid = fig.add_gridspec(rows + 1, 2, height_ratios=[1.6] * (rows - 3) + [1, 1, 0.8, 1.6])
    axes = [fig.add_subplot(grid[i, :]) for i in range(rows)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    i = 0
    if net is not None:
        groups = agent.unit_group[np.asarray(spike_id, dtype=int)] if spike_id else []
        axes[0].scatter(spike_t, spike_id, s=1, c=groups, cmap="tab10", vmin=0, vmax=9)
        axes[0].set_ylabel("output neuron\n(colour: group)")
        axes[0].set_title(f"{agent.env_id}: {n_steps} training steps after training "
                          f"(architecture {agent.architecture}, rule {agent.rule})")
        i = 1
    axes[i].plot(t, da, color="tab:green", lw=1)
    axes[i].axhline(0, color="grey", lw=0.5)
    axes[i].set_ylabel("DA third factor\n(TD error)")
    axes[i + 1].plot(t, ach, color="tab:blue", lw=1, label="ACh")
    axes[i + 1].plot(t, ne, color="tab:red", lw=1, label="NE (phasic)")
    axes[i + 1].set_ylabel("level")
    axes[i + 1].legend(fontsize=8, loc="upper right")
    names = sorted({e for ev in events for e in ev})
    for j, name in enumerate(names):
        xs = [x for x, ev in zip(t, events) if name in ev]
        axes[i + 2].plot(xs, [j] * len(xs), "|", ms=8, label=name)
    rewarded = [x for x, r in zip(t, reward) if r != 0]
    axes[i + 2].plot(rewarded, [len(names)] * len(rewarded), "k|", ms=8)
    axes[i + 2].set_yticks(range(len(names) + 1), names + ["reward != 0"])
    axes[i + 2].set_xlabel("network time (ms)" if net is not None else "time (step x step_ms)")
    weights_ax = fig.add_subplot(grid[rows, :])
    bins = np.linspace(min(initial_weights.min(), agent.weights.min()),
                       max(initial_weights.max(), agent.weights.max()) + 1e-9, 60)
    weights_ax.hist(initial_weights.ravel(), bins=bins, alpha=0.5, label="initial")
    weights_ax.hist(agent.weights.ravel(), bins=bins, alpha=0.5, label="after training")
    weights_ax.set_xlabel("synaptic weight")
    weights_ax.set_ylabel("synapses")
    weights_ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = Path(path).with_name(f".{Path(path).name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return Path(path)
