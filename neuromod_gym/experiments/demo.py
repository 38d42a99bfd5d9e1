"""A small, readable demo run: learners on ReversalBandit-v0 with the task's signals.

Until the comparison harness (``neuromod-gym compare``) exists this is the README's main
job. It trains stable-baselines3 PPO (when the ``baselines`` extra is installed), a
delta-rule learner (Rescorla & Wagner 1972 values with softmax choice: the two-line
reference every bandit learner should be compared with) and a random policy, several
seeds each, on the same 0.8 / 0.2 bandit with unsignalled reversals every 100 trials,
and writes a run folder:

- ``config.json``: everything needed to rerun it (arguments, versions);
- ``results.csv``: one tidy row per (agent, seed, trial);
- ``summary.md``: optimal-choice rate over the last half, per agent (mean and per seed);
- ``plots/reversal_bandit.png``: choice accuracy around reversals and the observer's
  surprise, which rises in the trials after each hidden reversal.
"""

from __future__ import annotations

import csv
import json
import platform
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import neuromod_gym  # noqa: F401  (registers the tasks)

TASK_ID = "neuromod_gym/ReversalBandit-v0"


def _package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for name in ("neuromod-gym", "gymnasium", "numpy", "numba", "stable-baselines3", "torch"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    return versions


def _run_policy(env: gym.Env, choose, learn, n_trials: int, seed: int) -> list[dict[str, Any]]:
    """Play ``n_trials`` trials; ``choose(obs) -> arm``, ``learn(obs, arm, reward)``."""
    observation, _ = env.reset(seed=seed)
    rows = []
    for trial in range(n_trials):
        arm = choose(observation)
        next_observation, reward, terminated, truncated, info = env.step(arm)
        learn(observation, arm, reward)
        rows.append(
            {
                "trial": trial,
                "reward": float(reward),
                "optimal_choice": int(info["latent"]["optimal_choice"]),
                "reversal": int(info["latent"]["reversal"]),
                "surprise": info["surprise"],
            }
        )
        observation = next_observation
        if terminated or truncated:
            observation, _ = env.reset()
    return rows


def delta_rule_rows(n_trials: int, seed: int, learning_rate: float = 0.3, inverse_temperature: float = 8.0):
    env = gym.make(TASK_ID)
    rng = np.random.default_rng(seed)
    values = np.full(env.action_space.n, 0.5)

    def choose(_observation):
        preferences = inverse_temperature * (values - values.max())
        probabilities = np.exp(preferences) / np.exp(preferences).sum()
        return int(rng.choice(len(values), p=probabilities))

    def learn(_observation, arm, reward):
        values[arm] += learning_rate * (reward - values[arm])

    return _run_policy(env, choose, learn, n_trials, seed)


def random_rows(n_trials: int, seed: int):
    env = gym.make(TASK_ID)
    env.action_space.seed(seed)
    return _run_policy(env, lambda _obs: env.action_space.sample(), lambda *_: None, n_trials, seed)


def ppo_rows(n_trials: int, seed: int):
    """PPO learns online; its trials are the ones it trained on (read back from the env)."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    rows: list[dict[str, Any]] = []

    class Record(BaseCallback):
        def _on_step(self) -> bool:
            info = self.locals["infos"][0]
            rows.append(
                {
                    "trial": len(rows),
                    "reward": float(self.locals["rewards"][0]),
                    "optimal_choice": int(info["latent"]["optimal_choice"]),
                    "reversal": int(info["latent"]["reversal"]),
                    "surprise": info["surprise"],
                }
            )
            return True

    env = gym.make(TASK_ID)
    # A bandit trial has no delayed consequences beyond the next observation, so a short
    # horizon and short rollouts let PPO learn within a demo's budget.
    model = PPO("MlpPolicy", env, n_steps=128, batch_size=64, gamma=0.5, learning_rate=1e-3, seed=seed, device="cpu", verbose=0)
    model.learn(total_timesteps=n_trials, callback=Record())
    return rows[:n_trials]


def run_demo(out_dir: str | Path, seeds: int = 3, n_trials: int = 4000) -> Path:
    """Run the demo and write its run folder; returns the folder."""
    if seeds < 1 or n_trials < 200:
        raise ValueError(f"need seeds >= 1 and n_trials >= 200, got seeds={seeds}, n_trials={n_trials}")
    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    agents = {"delta_rule": delta_rule_rows, "random": random_rows}
    try:
        import stable_baselines3  # noqa: F401

        agents = {"ppo": ppo_rows, **agents}
    except ImportError:
        print("stable-baselines3 is not installed (pip install -e '.[baselines]'): PPO is skipped")
    config = {
        "task": TASK_ID,
        "agents": list(agents),
        "seeds": list(range(seeds)),
        "n_trials": n_trials,
        "versions": _package_versions(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    results: dict[str, list[list[dict[str, Any]]]] = {name: [] for name in agents}
    with tqdm(total=len(agents) * seeds, desc="demo runs") as progress:
        for name, run in agents.items():
            for seed in range(seeds):
                results[name].append(run(n_trials, seed))
                progress.update()
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["task", "agent", "seed", "trial", "reward", "optimal_choice", "reversal", "surprise"])
        writer.writeheader()
        for name, per_seed in results.items():
            for seed, rows in enumerate(per_seed):
                for row in rows:
                    writer.writerow({"task": TASK_ID, "agent": name, "seed": seed, **row})
    lines = [f"# Demo: {TASK_ID}, {n_trials} trials, {seeds} seeds", "", "| agent | optimal choices, last half (mean) | per seed |", "|---|---|---|"]
    for name, per_seed in results.items():
        rates = [np.mean([r["optimal_choice"] for r in rows[n_trials // 2 :]]) for rows in per_seed]
        lines.append(f"| {name} | {np.mean(rates):.3f} | {', '.join(f'{r:.3f}' for r in rates)} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    _plot(results, out / "plots" / "reversal_bandit.png")
    print("\n".join(lines))
    print(f"\nwrote {out}/config.json, results.csv, summary.md, plots/reversal_bandit.png")
    return out


def _plot(results: dict[str, list[list[dict[str, Any]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (accuracy_ax, surprise_ax) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    window = 20
    for name, per_seed in results.items():
        optimal = np.array([[r["optimal_choice"] for r in rows] for rows in per_seed], dtype=float)
        smoothed = np.array([np.convolve(o, np.ones(window) / window, mode="valid") for o in optimal])
        trials = np.arange(smoothed.shape[1]) + window
        accuracy_ax.plot(trials, smoothed.mean(axis=0), label=name)
        if name == "delta_rule":
            surprise = np.array([[r["surprise"] for r in rows] for rows in per_seed])
            surprise_ax.plot(np.convolve(surprise.mean(axis=0), np.ones(5) / 5, mode="same"), color="tab:red")
    reversal_trials = [r["trial"] for r in next(iter(results.values()))[0] if r["reversal"]]
    for ax in (accuracy_ax, surprise_ax):
        for trial in reversal_trials:
            ax.axvline(trial, color="grey", lw=0.5, ls="--")
    accuracy_ax.set_ylabel(f"P(optimal choice)\n({window}-trial window)")
    accuracy_ax.set_ylim(0, 1)
    accuracy_ax.legend(loc="lower right")
    accuracy_ax.set_title("ReversalBandit-v0 (0.8 / 0.2, hidden reversals: dashed)")
    surprise_ax.set_ylabel("observer surprise (nats)\nunder the delta rule's choices")
    surprise_ax.set_xlabel("trial")
    surprise_ax.set_xlim(0, min(1000, len(next(iter(results.values()))[0])))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
