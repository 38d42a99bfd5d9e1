"""The comparison sweep: tasks x agents x seeds, one budget, one evaluation protocol.

    run_sweep(["ReversalBandit-v0", "CartPole-v1"], ["spiking", "ppo"], seeds=3,
              budget=20_000, eval_every=2_000, out="runs/compare")

Every (task, agent, seed) is a *cell*: the agent trains for ``budget`` env steps and is
evaluated (:func:`neuromod_gym.experiments.evaluation.evaluate`: deterministic, frozen,
separate env, not counted in the budget) at steps 0, ``eval_every``, 2 ``eval_every``, ...
and at ``budget``. A finished cell is written atomically to ``cells/<cell>.csv``; a
rerun of the same sweep in the same folder skips finished cells, so an interrupted sweep
(even by SIGKILL) resumes and never repeats or loses one. At the end all cells are merged
into ``results.csv`` (tidy rows, :data:`COLUMNS`).

Agent names (``parse_agent``)::

    ppo | a2c | dqn                       stable-baselines3, hyperparameters from agents/hyperparams/<algo>.yaml
    twin[:ARCHITECTURE]                   the rate-based twin
    spiking[:ARCHITECTURE[:RULE]][+MOD|-MOD ...]
        ARCHITECTURE: actor_critic | action_value | rstdp (default: per task, spiking.yaml)
        RULE: hebbian | rstdp (default: per architecture)
        MOD: +ne (phasic NE), +ach, +tonic_ne, -ne, -ach, -da (dopamine off: no
             plasticity, the control), +shuffled_da (dopamine shuffled in time)

e.g. ``spiking:rstdp+ne``, ``spiking-da``, ``twin:actor_critic``. The hyperparameters a
name resolves to on each task are recorded in ``config.json`` (``resolved``) and cells
are always built from that record, so a run folder reruns from its ``config.json`` alone.
"""
from __future__ import annotations

import hashlib
import os
import platform
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from neuromod_gym.experiments.io import read_csv, read_json, write_csv, write_json

__all__ = ["AgentSpec", "COLUMNS", "parse_agent", "resolve_task", "prepare_sweep", "run_sweep",
           "run_cell", "train_cell", "cell_path", "eval_steps", "load_results", "THREAD_ENV"]

COLUMNS = ("task", "agent", "architecture", "rule", "seed", "kind", "step", "env_steps",
           "episode", "return", "length", "eval_return", "eval_std", "wall_s")
"""``kind`` "train": one finished training episode (``return``, ``length``; ``step`` = env
steps when it ended). ``kind`` "eval": one evaluation (``eval_return`` = mean over the
evaluation episodes, ``eval_std``; ``step`` = its point on the schedule, ``env_steps`` = the
agent's actual count, which vectorised baselines may overshoot by < one rollout;
``episode`` = training episodes finished by then). ``wall_s``: seconds since the cell
started (a timing column: differs between runs and backends)."""
TIMING_COLUMNS = ("wall_s",)
THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "OPENBLAS_NUM_THREADS": "1"}
SPIKING_KINDS = ("spiking", "twin")
_MODS = {"ne": ("norepinephrine", True), "ach": ("acetylcholine", True),
         "tonic_ne": ("tonic_norepinephrine", True)}


# ----------------------------------------------------------------------------- names
@dataclass(frozen=True)
class AgentSpec:
    """A parsed agent name (see the module docstring)."""

    name: str
    kind: str                       # spiking | twin | ppo | a2c | dqn
    architecture: str | None = None
    rule: str | None = None
    params: dict = field(default_factory=dict)


def parse_agent(name: str) -> AgentSpec:
    """``"spiking:rstdp+ne"`` -> AgentSpec; ValueError naming what is wrong."""
    from agents.architectures import ARCHITECTURES
    from agents.baselines import BASELINES

    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"agent name must be a non-empty string, got {name!r}")
    head, *mods = re.split(r"(?=[+-])", name.strip())
    kind, *rest = head.split(":")
    known = "known: ppo, a2c, dqn, twin[:ARCH], spiking[:ARCH[:RULE]][+ne|+ach|+tonic_ne|-da|...]"
    if kind in BASELINES:
        if rest or mods:
            raise ValueError(f"agent {name!r}: baselines take no architecture, rule or modulators")
        return AgentSpec(name, kind)
    if kind not in SPIKING_KINDS:
        raise ValueError(f"unknown agent {name!r}; {known}")
    if len(rest) > (2 if kind == "spiking" else 1):
        raise ValueError(f"agent {name!r}: too many ':' parts; {known}")
    architecture = rest[0] if rest else None
    rule = rest[1] if len(rest) > 1 else None
    if architecture is not None and architecture not in ARCHITECTURES:
        raise ValueError(f"agent {name!r}: unknown architecture {architecture!r}; known: "
                         f"{list(ARCHITECTURES)}")
    if rule is not None:
        from agents.spiking_agent import SpikingAgent
        if rule not in SpikingAgent.rules:
            raise ValueError(f"agent {name!r}: unknown rule {rule!r}; known: "
                             f"{list(SpikingAgent.rules)}")
    params: dict[str, Any] = {}
    for mod in mods:
        sign, what = mod[0], mod[1:]
        if what in _MODS:
            params[_MODS[what][0]] = sign == "+"
        elif what == "da" and sign == "-":
            params["dopamine"] = "off"
        elif what == "shuffled_da" and sign == "+":
            params["dopamine"] = "shuffled"
        else:
            raise ValueError(f"agent {name!r}: unknown modulator switch {mod!r}; known: "
                             "+ne -ne +ach -ach +tonic_ne -tonic_ne -da +shuffled_da")
    return AgentSpec(name, kind, architecture, rule, params)


def resolve_task(name: str) -> str:
    """``"ReversalBandit-v0"`` -> ``"neuromod_gym/ReversalBandit-v0"``; any registered
    Gymnasium id passes through; ValueError otherwise."""
    import gymnasium as gym

    import neuromod_gym

    for candidate in (name, f"neuromod_gym/{name}"):
        if candidate in gym.registry:
            return candidate
    raise ValueError(f"unknown task {name!r}; neuromod-gym tasks: "
                     f"{[t.split('/')[-1] for t in neuromod_gym.task_ids()]} (or any "
                     "registered Gymnasium id with Discrete or Box actions, e.g. CartPole-v1)")


# ----------------------------------------------------------------------------- agents
def build_agent(task: str, kind: str, resolved: dict, seed: int):
    """An agent from its ``config.json`` record (``resolve_agent``'s output)."""
    if kind in SPIKING_KINDS:
        if kind == "spiking":
            from agents.spiking_agent import SpikingAgent as cls
        else:
            from agents.twin import RateTwinAgent as cls
        return cls(task, architecture=resolved["architecture"], rule=resolved["rule"] or None,
                   seed=seed, **resolved["params"])
    from agents.baselines import BaselineAgent

    agent = BaselineAgent(task, algorithm=kind, seed=seed, **resolved["params"])
    import torch
    torch.set_num_threads(1)
    return agent


def resolve_agent(task: str, spec: AgentSpec) -> dict:
    """Build ``spec`` on ``task`` once (seed 0) -> the full record cells are built from:
    ``{"kind", "architecture", "rule", "params"}`` with every hyperparameter explicit."""
    if spec.kind in SPIKING_KINDS:
        if spec.kind == "spiking":
            from agents.spiking_agent import SpikingAgent as cls
        else:
            from agents.twin import RateTwinAgent as cls
        agent = cls(task, architecture=spec.architecture, rule=spec.rule, seed=0, **spec.params)
        return {"kind": spec.kind, "architecture": agent.architecture, "rule": agent.rule,
                "params": agent.params.to_json()}
    from agents.baselines import BaselineAgent, baselines_available

    if not baselines_available():
        raise ValueError(f"agent {spec.name!r} needs stable-baselines3: "
                         "pip install -e '.[baselines]' -c constraints.txt")
    agent = BaselineAgent(task, algorithm=spec.kind, seed=0, **spec.params)
    return {"kind": spec.kind, "architecture": spec.kind, "rule": "", "params": agent.params}


# ----------------------------------------------------------------------------- one cell
def eval_steps(budget: int, eval_every: int) -> list[int]:
    """The evaluation schedule: 0, eval_every, 2 eval_every, ... and budget."""
    steps = list(range(0, budget + 1, eval_every))
    if steps[-1] != budget:
        steps.append(budget)
    return steps


@contextmanager
def single_thread():
    """Run a cell on one numba / torch thread, then restore the caller's thread counts.

    Worker processes also get :data:`THREAD_ENV` before they import anything
    (:func:`_worker_init`, Ray's ``runtime_env``); here, in a process that may already
    have started numba's thread pool (``--workers 1``, ``train``, tests), the environment
    is left alone: numba refuses a changed ``NUMBA_NUM_THREADS`` once its threads run.
    """
    import numba

    numba_threads = numba.get_num_threads()
    torch = sys.modules.get("torch")
    torch_threads = torch.get_num_threads() if torch is not None else None
    numba.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(numba_threads)
        if torch is not None and torch_threads is not None:
            torch.set_num_threads(torch_threads)


def run_cell(task: str, agent_name: str, resolved: dict, seed: int, budget: int,
             eval_every: int, eval_episodes: int) -> list[dict[str, Any]]:
    """Train one agent on one task for ``budget`` env steps; -> tidy rows (:data:`COLUMNS`).

    Deterministic: the same arguments give the same rows (``wall_s`` aside).
    """
    return train_cell(task, agent_name, resolved, seed, budget, eval_every, eval_episodes)[1]


def train_cell(task: str, agent_name: str, resolved: dict, seed: int, budget: int,
               eval_every: int, eval_episodes: int, progress_bar: bool = False):
    """:func:`run_cell` that also returns the trained agent: -> (agent, rows)."""
    with single_thread():
        return _train_cell(task, agent_name, resolved, seed, budget, eval_every, eval_episodes,
                           progress_bar)


def _train_cell(task: str, agent_name: str, resolved: dict, seed: int, budget: int,
                eval_every: int, eval_episodes: int, progress_bar: bool):
    from neuromod_gym.experiments.evaluation import evaluate

    t0 = time.perf_counter()
    agent = build_agent(task, resolved["kind"], resolved, seed)
    base = {"task": task, "agent": agent_name, "architecture": resolved["architecture"],
            "rule": resolved["rule"], "seed": seed}
    rows: list[dict[str, Any]] = []
    schedule = eval_steps(budget, eval_every)
    state = {"next": 0, "episodes": 0}

    def flush_episodes() -> None:
        while state["episodes"] < len(agent.episode_returns):
            i = state["episodes"]
            rows.append({**base, "kind": "train", "step": agent.num_timesteps,
                         "env_steps": agent.num_timesteps, "episode": i + 1,
                         "return": float(agent.episode_returns[i]),
                         "length": int(agent.episode_lengths[i]),
                         "wall_s": round(time.perf_counter() - t0, 3)})
            state["episodes"] += 1

    def evaluate_due() -> None:
        while state["next"] < len(schedule) and agent.num_timesteps >= schedule[state["next"]]:
            returns = evaluate(agent, task, eval_episodes)
            rows.append({**base, "kind": "eval", "step": schedule[state["next"]],
                         "env_steps": agent.num_timesteps, "episode": state["episodes"],
                         "eval_return": float(returns.mean()),
                         "eval_std": float(returns.std()),
                         "wall_s": round(time.perf_counter() - t0, 3)})
            state["next"] += 1

    def on_step(_locals, _globals) -> bool:
        flush_episodes()
        evaluate_due()
        return True

    evaluate_due()  # step 0: the untrained agent
    agent.learn(budget, callback=on_step, progress_bar=progress_bar)
    flush_episodes()
    evaluate_due()
    if state["next"] < len(schedule):  # pragma: no cover (learn stopped early)
        raise RuntimeError(f"{task} / {agent_name} / seed {seed}: training stopped at "
                           f"{agent.num_timesteps} of {budget} steps")
    return agent, rows


# ----------------------------------------------------------------------------- the sweep
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("neuromod-gym", "gymnasium", "numpy", "numba", "scipy", "stable-baselines3",
                 "torch", "ray"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    try:
        import subprocess
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent, timeout=5)
        if commit.returncode == 0:
            versions["git_commit"] = commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):  # pragma: no cover
        pass
    return versions


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "cells").mkdir(exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out / "cells", prefix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise ValueError(f"output folder {str(out)!r} is not writable ({error.strerror})") from None


def prepare_sweep(tasks: list[str], agents: list[str], seeds: int | list[int], budget: int,
                  eval_every: int, out: str | os.PathLike, eval_episodes: int = 10,
                  command: str | None = None) -> dict:
    """Validate everything and write ``config.json``; -> the config. Nothing is trained.

    Raises ValueError (before any work) for unknown tasks or agents, an agent that cannot
    run on a task, bad budgets, or an output folder that is not writable or holds a
    different sweep.
    """
    if not tasks or not agents:
        raise ValueError("need at least one task and one agent")
    budget = _check_int("budget", budget, 1)
    eval_every = _check_int("eval_every", eval_every, 1)
    eval_episodes = _check_int("eval_episodes", eval_episodes, 1)
    if eval_every > budget:
        raise ValueError(f"eval_every ({eval_every}) must not exceed the budget ({budget})")
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = list(range(_check_int("seeds", seeds, 1)))
    seeds = [_check_int("seed", s, 0) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and non-empty, got {seeds}")
    task_ids = list(dict.fromkeys(resolve_task(t) for t in tasks))
    specs = [parse_agent(a) for a in dict.fromkeys(agents)]
    out = Path(out)
    _check_writable(out)
    resolved: dict[str, dict[str, dict]] = {}
    for task in task_ids:
        resolved[task] = {}
        for spec in specs:
            try:
                resolved[task][spec.name] = resolve_agent(task, spec)
            except ValueError as error:
                raise ValueError(f"agent {spec.name!r} on {task}: {error}") from None
    sweep = {"tasks": task_ids, "agents": [s.name for s in specs], "seeds": seeds,
             "budget": budget, "eval_every": eval_every, "eval_episodes": eval_episodes}
    config_path = out / "config.json"
    if config_path.exists():
        old = read_json(config_path)
        if old.get("sweep") != sweep or old.get("resolved") != resolved:
            raise ValueError(f"{out} holds a different sweep (config.json differs); use another "
                             "--out, or --rerun it as it was")
    config = {"sweep": sweep, "resolved": resolved, "versions": _versions(),
              "command": command or " ".join(sys.argv),
              "rerun": f"neuromod-gym compare --rerun {out}"}
    write_json(config_path, config)
    return config


def cell_path(out: Path, task: str, agent: str, seed: int) -> Path:
    key = f"{task}|{agent}|{seed}"
    safe = re.sub(r"[^A-Za-z0-9.]+", "_", f"{task.split('/')[-1]}__{agent}")
    return out / "cells" / f"{safe}__s{seed}-{hashlib.sha1(key.encode()).hexdigest()[:8]}.csv"


def _worker_init() -> None:
    for key, value in THREAD_ENV.items():
        os.environ[key] = value
    try:  # die with the parent (SIGKILL included) instead of running on as an orphan
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover (not Linux)
        pass


def _run_cell_job(job: tuple) -> tuple[tuple, list[dict[str, Any]]]:
    return job, run_cell(*job)


def run_sweep(tasks: list[str], agents: list[str], seeds: int | list[int], budget: int,
              eval_every: int, out: str | os.PathLike, eval_episodes: int = 10,
              backend: str = "local", workers: int = 1, address: str | None = None,
              progress: bool = True, command: str | None = None) -> Path:
    """Run (or resume) the sweep into ``out``; -> path of ``results.csv``.

    ``backend``: ``"local"`` (a process pool of ``workers``; 1 = in this process) or
    ``"ray"`` (``address`` of a cluster to join; else the running Ray instance, or a local
    one with ``workers`` CPUs). Both give the same rows, timing columns aside.
    """
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    workers = _check_int("workers", workers, 1)
    if backend == "ray":
        from importlib.util import find_spec
        if find_spec("ray") is None:
            raise ValueError("backend 'ray' needs ray: pip install -e '.[distributed]'")
    config = prepare_sweep(tasks, agents, seeds, budget, eval_every, out, eval_episodes,
                           command)
    return _execute(config, Path(out), backend, workers, address, progress)


def rerun(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, **kwargs) -> Path:
    """Run the sweep recorded in ``run_dir/config.json`` again (into ``out``, default:
    ``run_dir`` itself, which resumes it)."""
    config_path = Path(run_dir) / "config.json"
    if not config_path.exists():
        raise ValueError(f"{run_dir}: no config.json to rerun")
    config = _read_config(config_path)
    out = Path(out or run_dir)
    if out.resolve() != Path(run_dir).resolve():
        _check_writable(out)
        if (out / "config.json").exists() and read_json(out / "config.json")["sweep"] != config["sweep"]:
            raise ValueError(f"{out} holds a different sweep")
        write_json(out / "config.json", {**config, "rerun_of": str(run_dir)})
    backend = kwargs.pop("backend", "local")
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    workers = _check_int("workers", kwargs.pop("workers", 1), 1)
    return _execute(config, out, backend, workers, kwargs.pop("address", None),
                    kwargs.pop("progress", True))


_SWEEP_KEYS = ("tasks", "agents", "seeds", "budget", "eval_every", "eval_episodes")


def _read_config(config_path: Path) -> dict:
    """A run folder's ``config.json``, checked to hold a whole sweep (a damaged or foreign
    file is refused naming it, instead of a KeyError half-way through the rerun)."""
    try:
        config = read_json(config_path)
        sweep, resolved = config["sweep"], config["resolved"]
        missing = [key for key in _SWEEP_KEYS if key not in sweep]
        if missing:
            raise KeyError(f"sweep lacks {missing}")
        for task in sweep["tasks"]:
            for agent in sweep["agents"]:
                resolved[task][agent]["kind"]
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{config_path}: not a complete neuromod-gym run config "
                         f"({type(error).__name__}: {error})") from None
    return config


def _execute(config: dict, out: Path, backend: str, workers: int, address: str | None,
             progress: bool) -> Path:
    sweep, resolved = config["sweep"], config["resolved"]
    cells = [(task, agent, seed) for task in sweep["tasks"] for agent in sweep["agents"]
             for seed in sweep["seeds"]]
    todo = [c for c in cells if not cell_path(out, *c).exists()]
    jobs = [(task, agent, resolved[task][agent], seed, sweep["budget"], sweep["eval_every"],
             sweep["eval_episodes"]) for task, agent, seed in todo]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc="cells", unit="cell",
               disable=not progress)

    def finished(job: tuple, rows: list[dict[str, Any]]) -> None:
        write_csv(cell_path(out, job[0], job[1], job[3]), rows, COLUMNS)
        bar.update(1)

    if jobs:
        if backend == "ray":
            _run_ray(jobs, workers, address, finished)
        elif workers == 1:
            for job in jobs:
                finished(*_run_cell_job(job))
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(min(workers, len(jobs)),
                                     mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_worker_init) as pool:
                futures = [pool.submit(_run_cell_job, job) for job in jobs]
                for future in as_completed(futures):
                    finished(*future.result())
    bar.close()
    rows: list[dict[str, str]] = []
    for cell in cells:
        rows.extend(read_csv(cell_path(out, *cell)))
    return write_csv(out / "results.csv", rows, COLUMNS)


def _run_ray(jobs: list[tuple], workers: int, address: str | None,
             finished: Callable[[tuple, list], None]) -> None:
    import ray

    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"address": address, "log_to_driver": False,
                                  "runtime_env": {"env_vars": dict(THREAD_ENV)}}
        if address is None:
            kwargs.update(num_cpus=workers, include_dashboard=False)
        ray.init(**kwargs)
        started = True
    try:
        remote = ray.remote(num_cpus=1, max_retries=2)(_run_cell_job)
        pending = [remote.remote(job) for job in jobs]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            finished(*ray.get(done[0]))
    finally:
        if started:
            ray.shutdown()


def load_results(run_dir: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of ``run_dir/results.csv`` (strings, as written)."""
    path = Path(run_dir) / "results.csv"
    if not path.exists():
        raise ValueError(f"{run_dir}: no results.csv (run `neuromod-gym compare` first)")
    return read_csv(path)
