"""Soak: a spiking agent trained for a long run stays finite, bounded and flat in memory.

Marked slow (excluded from the default run); ``python scripts/soak.py`` runs it and prints
the figures. ``NEUROMOD_SOAK_SCALE`` scales every budget (e.g. 0.01 for a smoke run);
``NEUROMOD_SOAK_REPORT`` names a JSON file that receives the figures of each soak.

At every check (``N_CHECKS`` evenly spaced over the run) the whole numeric state of the
agent is walked (weights, eligibility traces, the engine's neuron / synapse state, the
modulators, the reward baseline): nothing may be NaN or infinite, and every weight must lie
inside ``[w_min, w_max]`` (only bound values themselves may be infinite: "no bound"). Resident memory is measured after ``gc.collect()`` at the 10%
and the 100% marks; growth between them must stay below 5% (a leak that grows with the
number of steps or episodes shows there; the numba compile and the first allocations
happen before 10%).
"""
from __future__ import annotations

import gc
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

SCALE = float(os.environ.get("NEUROMOD_SOAK_SCALE", "1"))
REPORT = os.environ.get("NEUROMOD_SOAK_REPORT")
N_CHECKS = 50
MAX_RSS_GROWTH = 0.05
SOAKS = {"neuromod_gym/ReversalBandit-v0": 1_000_000, "CartPole-v1": 200_000}


def resident_bytes() -> int:
    """This process's resident set size (Linux /proc; what `top` shows as RES)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def numeric_state(agent) -> dict[str, np.ndarray]:
    """Every number the agent carries, by attribute path (the env is not the agent's).

    Walks attributes of objects defined in the ``agents`` package, dicts, lists and tuples;
    the engine network's ``state_dict()`` is included explicitly, so neuron and synapse state
    held behind properties are seen too.
    """
    found: dict[str, np.ndarray] = {}
    seen: set[int] = set()

    def visit(value, path: str) -> None:
        if id(value) in seen:
            return
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "fc":
                found[path] = value
            return
        if isinstance(value, (float, np.floating)):
            found[path] = np.asarray(value)
            return
        if isinstance(value, (str, bytes, int, bool, type(None))):
            return
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}[{key!r}]")
        elif isinstance(value, (list, tuple)):
            if len(value) > 64 and all(isinstance(v, (int, float)) for v in value[:64]):
                found[path] = np.asarray(value, dtype=float)  # e.g. episode_returns
                return
            for i, item in enumerate(value):
                visit(item, f"{path}[{i}]")
        elif type(value).__module__.startswith("agents") and hasattr(value, "__dict__"):
            for key, item in vars(value).items():
                if key != "env":
                    visit(item, f"{path}.{key}")

    visit(agent, "agent")
    learner = getattr(agent, "_learner", None)
    if learner is not None:
        for key, array in learner.net.state_dict().items():
            array = np.asarray(array)
            if array.dtype.kind in "fc":
                found[f"agent._learner.net.state_dict()[{key!r}]"] = array
    return found


def soak(env_id: str, total_steps: int, seed: int = 0) -> dict:
    """Train a SpikingAgent (the task's published defaults) for ``total_steps`` env steps,
    checking the state ``N_CHECKS`` times; -> the figures. Raises AssertionError at the
    first check that fails, naming the step and the offending state."""
    import neuromod_gym  # noqa: F401  (registers the tasks)
    from agents.spiking_agent import SpikingAgent

    t0 = time.perf_counter()
    agent = SpikingAgent(env_id, seed=seed)
    p = agent.params
    chunk = max(1, total_steps // N_CHECKS)
    rss: dict[int, int] = {}
    max_abs_w = 0.0
    checks = arrays_checked = 0
    while agent.num_timesteps < total_steps:
        agent.learn(min(chunk, total_steps - agent.num_timesteps))
        state = numeric_state(agent)
        assert "agent.weights" in state, "the state walk must see the weights"
        for path, array in state.items():
            # Weight bounds may be infinite by definition ("no bound": the engine's packed
            # bounds of a network without a plasticity rule); NaN never is.
            bad = np.isnan(array) if path.endswith(".bounds") else ~np.isfinite(array)
            assert not bad.any(), (f"{env_id} step {agent.num_timesteps}: {path} holds "
                                   f"{int(bad.sum())} non-finite value(s)")
        w = agent.weights
        assert w.min() >= p.w_min and w.max() <= p.w_max, (
            f"{env_id} step {agent.num_timesteps}: weights [{w.min()}, {w.max()}] outside "
            f"the bounds [{p.w_min}, {p.w_max}]")
        max_abs_w = max(max_abs_w, float(np.abs(w).max()))
        checks += 1
        arrays_checked += len(state)
        done = agent.num_timesteps / total_steps
        for mark in (10, 100):
            if mark not in rss and done >= mark / 100 - 1e-9:
                gc.collect()
                rss[mark] = resident_bytes()
    growth = rss[100] / rss[10] - 1.0
    returns = np.asarray(agent.episode_returns, dtype=float)
    return {"env_id": env_id, "agent": f"spiking:{agent.architecture}:{agent.rule}",
            "seed": seed, "steps": agent.num_timesteps, "checks": checks,
            "state_arrays_checked": arrays_checked, "max_abs_w": max_abs_w,
            "w_bounds": [p.w_min, p.w_max], "episodes": int(returns.size),
            "last_100_episode_mean_return": (float(returns[-100:].mean()) if returns.size
                                             else math.nan),
            "rss_10pct_mb": rss[10] / 2**20, "rss_100pct_mb": rss[100] / 2**20,
            "rss_growth_pct": 100.0 * growth,
            "wall_s": time.perf_counter() - t0}


def _record(figures: dict) -> None:
    print(json.dumps(figures))
    if REPORT:
        path = Path(REPORT)
        existing = json.loads(path.read_text()) if path.exists() else []
        existing = [f for f in existing if f["env_id"] != figures["env_id"]]
        path.write_text(json.dumps(existing + [figures], indent=2) + "\n")


@pytest.mark.parametrize("env_id", list(SOAKS))
def test_long_run_stays_finite_bounded_and_flat_in_memory(env_id):
    total = max(N_CHECKS, int(SOAKS[env_id] * SCALE))
    figures = soak(env_id, total)
    _record(figures)
    assert figures["steps"] == total and figures["checks"] >= N_CHECKS
    assert figures["rss_growth_pct"] < 100 * MAX_RSS_GROWTH, (
        f"{env_id}: resident memory grew {figures['rss_growth_pct']:.2f}% between the 10% "
        f"and 100% marks ({figures['rss_10pct_mb']:.1f} -> {figures['rss_100pct_mb']:.1f} MB)")
