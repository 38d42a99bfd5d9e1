"""Fuzz the public surface with bad input: every bad value is refused with a readable error.

Surfaces: task constructors and ``step`` / ``reset``, the agents (parameters, ``learn``,
``predict``), the learning rules, the neuromodulators, the spiking engine's run-time
inputs, checkpoints (truncated, bit-flipped, wrong version / kind / content), the sweep
API and the ``neuromod-gym`` command line.

Every bad input must (``assert_refused``):

* raise a Python exception of an allowed type (``ValueError`` / ``TypeError``, or the
  documented error of that call: ``RuntimeError`` for ``step`` before ``reset``,
  ``FileNotFoundError`` for a missing file, ``SystemExit(2)`` from argparse);
* name the bad value or parameter in its message (the user must see WHAT is wrong);
* be raised by our own code (``agents/``, ``neuromod_gym/``, ``scripts``) or by a library's
  documented argument check (argparse, Gymnasium's seeding), not from deep inside numpy /
  numba / zipfile internals (an unreadable traceback is a bug);
* not hang (a watchdog alarm fails the case after ``HANG_S`` seconds);

and never be accepted silently. The explicit cases below are counted (``test_fuzz_corpus
_is_large_and_distinct``: at least 200 distinct bad inputs, each surface represented);
hypothesis strategies add random ones on top.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import traceback
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuromod_gym
from agents import neuromodulators as nm
from agents.rules import RULES, get_rule, widen_window
from agents.spiking_agent import SpikingAgent, SpikingParams
from agents.twin import RateTwinAgent
from neuromod_gym.envs import TASKS

HANG_S = 60
REPO = Path(__file__).resolve().parent.parent
OUR_CODE = (str(REPO / "agents"), str(REPO / "neuromod_gym"))
TASK_IDS = neuromod_gym.task_ids()
NAN, INF = math.nan, math.inf


@dataclass(frozen=True)
class BadInput:
    """One bad input: ``call()`` must be refused with an error naming one of ``names``."""

    surface: str
    label: str
    call: Callable[[], Any]
    names: tuple[str, ...]
    errors: tuple[type[BaseException], ...] = (ValueError, TypeError)
    raised_in: tuple[str, ...] = OUR_CODE   # where the refusing frame may live

    @property
    def id(self) -> str:
        return f"{self.surface}:{self.label}"


class Hang(Exception):
    pass


@contextlib.contextmanager
def watchdog(seconds: int):
    def alarm(_signum, _frame):
        raise Hang(f"no answer within {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refusal(call: Callable[[], Any], errors=(ValueError, TypeError)) -> BaseException:
    """Run ``call``; -> the exception it raised. AssertionError if it returned, hung, or
    raised something other than ``errors``."""
    try:
        with watchdog(HANG_S):
            result = call()
    except Hang as error:
        raise AssertionError(f"hung: {error}") from None
    except errors as error:
        return error
    except BaseException as error:  # noqa: BLE001 - the wrong kind of error is the finding
        raise AssertionError(f"raised {type(error).__name__} (allowed: "
                             f"{[e.__name__ for e in errors]}): {error}\n"
                             + "".join(traceback.format_exception(error))) from None
    raise AssertionError(f"accepted silently (returned {result!r:.200})")


def assert_refused(case: BadInput) -> None:
    error = refusal(case.call, case.errors)
    message = f"{error}"
    if isinstance(error, SystemExit):
        message = case.call.captured_stderr() if hasattr(case.call, "captured_stderr") else ""
    assert any(name.lower() in message.lower() for name in case.names), (
        f"{case.id}: the message does not name any of {case.names}: {message!r}")
    frames = traceback.extract_tb(error.__traceback__)
    origin = frames[-1].filename if frames else ""
    assert origin.startswith(case.raised_in), (
        f"{case.id}: refused from {origin}:{frames[-1].lineno if frames else '?'} "
        f"(not a readable check of ours): {type(error).__name__}: {message}")


# ============================================================================ corpus
CASES: list[BadInput] = []


def case(surface: str, label: str, call: Callable[[], Any], *names: str, **kwargs) -> None:
    CASES.append(BadInput(surface, label, call, tuple(names) or (label,), **kwargs))


# ---------------------------------------------------------------- task constructors
def _task_class(env_id: str):
    import importlib

    entry = dict((t[0], t[1]) for t in TASKS)[env_id]
    module, name = entry.split(":")
    return getattr(importlib.import_module(module), name)


def _default_kwargs(env_id: str) -> dict[str, Any]:
    import inspect

    signature = inspect.signature(_task_class(env_id).__init__)
    return {k: p.default for k, p in signature.parameters.items() if k != "self"}


NUMBER_GARBAGE = (("nan", NAN), ("inf", INF), ("-inf", -INF), ("text", "12"),
                  ("list", [1.0]), ("complex", 1j))
for env_id in TASK_IDS:
    short = env_id.split("/")[-1]
    for param, default in _default_kwargs(env_id).items():
        if isinstance(default, bool):
            for label, value in (("text", "yes"), ("int", 1), ("none", None)):
                case("task-ctor", f"{short}({param}={label})",
                     lambda e=env_id, p=param, v=value: gym.make(e, **{p: v}), param)
        elif isinstance(default, (int, float)):
            for label, value in NUMBER_GARBAGE:
                case("task-ctor", f"{short}({param}={label})",
                     lambda e=env_id, p=param, v=value: gym.make(e, **{p: v}), param)
        elif isinstance(default, str) and param != "render_mode":
            case("task-ctor", f"{short}({param}=unknown)",
                 lambda e=env_id, p=param: gym.make(e, **{p: "no_such_option"}), param)
        elif isinstance(default, tuple) and default and isinstance(default[0], (int, float)):
            for label, value in (("nan-pair", (NAN, 1.0)), ("text", "ab"), ("empty", ())):
                case("task-ctor", f"{short}({param}={label})",
                     lambda e=env_id, p=param, v=value: gym.make(e, **{p: v}), param)
    if "render_mode" in _default_kwargs(env_id):
        case("task-ctor", f"{short}(render_mode=unknown)",
             lambda e=env_id: gym.make(e, render_mode="hologram"), "render_mode")
    case("task-ctor", f"{short}(dt_ms=0)", lambda e=env_id: gym.make(e, dt_ms=0.0), "dt_ms")
    case("task-ctor", f"{short}(dt_ms=-1)", lambda e=env_id: gym.make(e, dt_ms=-1.0), "dt_ms")
    case("task-ctor", f"{short}(unknown kwarg)",
         lambda e=env_id: gym.make(e, no_such_argument=1), "no_such_argument",
         raised_in=OUR_CODE + (os.path.dirname(gym.__file__),))


# ---------------------------------------------------------------- task step / reset
def _stepped(env_id: str, action) -> Callable[[], Any]:
    def call():
        env = gym.make(env_id)
        env.reset(seed=0)
        return env.step(action)
    return call


BAD_ACTIONS = (("nan", NAN), ("inf", INF), ("bool", True), ("huge", 2**70),
               ("2d", np.array([[0]])), ("complex", 1j), ("bytes", b"0"), ("dict", {}),
               ("float-array", np.array([0.0])), ("neg-int64", np.int64(-1)))
for env_id in TASK_IDS:
    short = env_id.split("/")[-1]
    for label, action in BAD_ACTIONS:
        case("task-step", f"{short}.step({label})", _stepped(env_id, action), "action")
    case("task-step", f"{short}.step(before reset)",
         lambda e=env_id: gym.make(e).unwrapped.step(0), "reset",
         errors=(ValueError, TypeError, RuntimeError))
    for label, seed in (("neg", -1), ("float", 1.5), ("text", "0")):
        case("task-reset", f"{short}.reset(seed={label})",
             lambda e=env_id, s=seed: gym.make(e).reset(seed=s), "seed",
             errors=(ValueError, TypeError, gym.error.Error),
             raised_in=OUR_CODE + (os.path.dirname(gym.__file__),))


# ---------------------------------------------------------------- agents
AGENT_NUMBER_FIELDS = [f.name for f in fields(SpikingParams)
                       if type(f.default) in (int, float)]
AGENT_BOOL_FIELDS = [f.name for f in fields(SpikingParams) if type(f.default) is bool]
for field_name in AGENT_NUMBER_FIELDS:
    for label, value in (("nan", NAN), ("inf", INF), ("text", "1"), ("none", None)):
        case("agent-params", f"SpikingAgent({field_name}={label})",
             lambda f=field_name, v=value: SpikingAgent("CartPole-v1", **{f: v}), field_name)
for field_name in AGENT_BOOL_FIELDS:
    for label, value in (("text", "no"), ("int", 2)):
        case("agent-params", f"SpikingAgent({field_name}={label})",
             lambda f=field_name, v=value: SpikingAgent("CartPole-v1", **{f: v}), field_name)
for label, kwargs, name in [
    ("gamma>1", dict(gamma=1.5), "gamma"), ("gamma<0", dict(gamma=-0.1), "gamma"),
    ("trace_lambda>1", dict(trace_lambda=2.0), "trace_lambda"),
    ("eligibility_rise_ms<0", dict(eligibility_rise_ms=-1.0), "eligibility_rise_ms"),
    ("actor_lr<0", dict(actor_lr=-1.0), "actor_lr"), ("critic_lr<0", dict(critic_lr=-1e-3), "critic_lr"),
    ("ne_gain<0", dict(ne_gain=-1.0), "ne_gain"), ("ach_gain<0", dict(ach_gain=-1.0), "ach_gain"),
    ("reward_baseline_rate<0", dict(reward_baseline_rate=-0.5), "reward_baseline_rate"),
    ("dt_ms=0", dict(dt_ms=0.0), "dt_ms"), ("step_ms=0", dict(step_ms=0.0), "step_ms"),
    ("step_ms not whole", dict(step_ms=2.5), "step_ms"),
    ("tau_m_ms<0", dict(tau_m_ms=-20.0), "tau_m_ms"), ("tau_syn_ms=0", dict(tau_syn_ms=0.0), "tau_syn_ms"),
    ("threshold_mV<0", dict(threshold_mV=-1.0), "threshold_mV"),
    ("pre_trace_ms=0", dict(pre_trace_ms=0.0), "pre_trace_ms"),
    ("n_critic=0", dict(n_critic=0), "n_critic"), ("n_per_action=0", dict(n_per_action=0), "n_per_action"),
    ("input_copies=0", dict(input_copies=0), "input_copies"),
    ("n_per_action float", dict(n_per_action=2.5), "n_per_action"),
    ("input_copies float", dict(input_copies=1.5), "input_copies"),
    ("max_input_rate_hz too high", dict(max_input_rate_hz=5000.0), "max_input_rate_hz"),
    ("max_input_rate_hz<0", dict(max_input_rate_hz=-1.0), "max_input_rate_hz"),
    ("background_hz<0", dict(background_hz=-1.0), "background_hz"),
    ("lateral_inhibition<0", dict(lateral_inhibition=-1.0), "lateral_inhibition"),
    ("refractory_ms<0", dict(refractory_ms=-2.0), "refractory_ms"),
    ("w_min>w_max", dict(w_min=5.0, w_max=1.0, w_init_min=0.0, w_init_max=0.0), "w_min"),
    ("w_init outside bounds", dict(w_init_max=50.0), "w_init_max"),
    ("encoder unknown", dict(encoder="wavelet"), "wavelet"),
    ("encoder onehot on Box", dict(encoder="onehot"), "onehot"),
    ("dopamine unknown", dict(dopamine="sometimes"), "dopamine"),
    ("fourier_order<0", dict(fourier_order=-1), "fourier_order"),
    ("fourier_order huge", dict(fourier_order=60), "fourier_order"),
    ("gaussian_per_dim=1", dict(encoder="gaussian", gaussian_per_dim=1), "gaussian_per_dim"),
    ("place_cells_per_side=0", dict(encoder="place", place_cells_per_side=0), "place_cells_per_side"),
    ("observation_low wrong length", dict(observation_low=(0.0, 1.0)), "observation_low"),
    ("observation_high below low", dict(observation_low=(1.0,) * 4, observation_high=(0.0,) * 4),
     "observation"),
    ("observation_low nan", dict(observation_low=(NAN,) * 4), "observation_low"),
    ("unbounded_range=0", dict(unbounded_range=0.0), "unbounded_range"),
    ("unknown parameter", dict(learning_rate_typo=0.1), "learning_rate_typo"),
    ("seed<0", dict(seed=-1), "seed"), ("seed float", dict(seed=1.5), "seed"),
    ("seed text", dict(seed="0"), "seed"),
    ("architecture unknown", dict(architecture="transformer"), "transformer"),
    ("rule unknown", dict(rule="backprop"), "backprop"),
    ("hebbian with LTD", dict(rule="hebbian", stdp_ltd_ratio=-1.0), "stdp_ltd_ratio"),
]:
    case("agent-params", f"SpikingAgent({label})",
         lambda k=kwargs: SpikingAgent("CartPole-v1", **k), name)
for label, kwargs, name in [("gamma nan", dict(gamma=NAN), "gamma"),
                            ("seed<0", dict(seed=-3), "seed"),
                            ("unknown parameter", dict(n_critic=4), "n_critic"),
                            ("encoder text", dict(encoder=3), "encoder"),
                            ("architecture unknown", dict(architecture="mlp"), "mlp")]:
    case("agent-params", f"RateTwinAgent({label})",
         lambda k=kwargs: RateTwinAgent("CartPole-v1", **k), name)
for label, env, name in [("unknown id", "NoSuchEnv-v0", "NoSuchEnv"),
                         ("not an env", 42, "env"), ("none", None, "env")]:
    case("agent-env", f"SpikingAgent(env={label})", lambda e=env: SpikingAgent(e), name,
         errors=(ValueError, TypeError, gym.error.Error),  # Gymnasium's unknown-id error
         raised_in=OUR_CODE + (os.path.dirname(gym.__file__),))
# Box actions are learned by actor_critic only (a population-vector actor); the others refuse
for arch in ("action_value", "rstdp"):
    case("agent-env", f"SpikingAgent(env=continuous actions, architecture={arch})",
         lambda a=arch: SpikingAgent("Pendulum-v1", architecture=a), "actor_critic")
case("agent-env", "SpikingAgent(env=continuous actions, n_action_directions odd for 1-D)",
     lambda: SpikingAgent("Pendulum-v1", n_action_directions=7), "n_action_directions")


def _twin():
    return RateTwinAgent("CartPole-v1", seed=0)


for label, steps in (("neg", -1), ("float", 10.5), ("text", "100"), ("none", None),
                     ("nan", NAN)):
    case("agent-learn", f"learn(total_timesteps={label})", lambda s=steps: _twin().learn(s),
         "total_timesteps")
case("agent-learn", "learn(callback=42)", lambda: _twin().learn(5, callback=42), "callback")
for label, obs, name in [("nan", np.full(4, NAN), "finite"), ("inf", np.full(4, INF), "finite"),
                         ("text", "abc", "shape"), ("scalar", 0.5, "shape"),
                         ("3d", np.zeros((2, 2, 4)), "shape"), ("empty", np.zeros(0), "shape"),
                         ("object", np.array([None] * 4), "observation")]:
    case("agent-predict", f"predict({label})", lambda o=obs: _twin().predict(o), name)
case("agent-predict", "predict(episode_start wrong length)",
     lambda: _twin().predict(np.zeros((3, 4)), episode_start=np.ones(2, bool)), "episode_start")
case("agent-env", "set_env(other spaces)", lambda: _twin().set_env(gym.make("Acrobot-v1")),
     "observation space")


# ---------------------------------------------------------------- learning rules
for rule_name, params_class in RULES.items():
    for f in fields(params_class):
        if type(f.default) not in (int, float):
            continue
        bad_values = [("nan", NAN), ("text", "1.0"), ("none", None)]
        if f.name.endswith("_ms"):
            bad_values += [("zero", 0.0), ("negative", -5.0)]
        elif f.name not in ("w_min", "w_max"):
            bad_values += [("inf", INF)]
        for label, value in bad_values:
            case("rule-params", f"get_rule({rule_name}, {f.name}={label})",
                 lambda r=rule_name, n=f.name, v=value: get_rule(r, **{n: v}), f.name)
    case("rule-params", f"get_rule({rule_name}, w_min>w_max)",
         lambda r=rule_name: get_rule(r, w_min=3.0, w_max=1.0), "w_min")
for label, name in (("unknown", "stdp_deluxe"), ("none", None), ("number", 7)):
    case("rule-params", f"get_rule(name={label})", lambda n=name: get_rule(n), "unknown rule")
for label, scale in (("zero", 0.0), ("negative", -1.0), ("nan", NAN), ("inf", INF)):
    case("rule-params", f"widen_window(scale={label})",
         lambda s=scale: widen_window(get_rule("rstdp"), s), "scale")


# ---------------------------------------------------------------- neuromodulators
for f in ("release_delay_ms", "rise_tau_ms", "decay_tau_ms", "tonic_baseline", "phasic_gain"):
    for label, value in (("nan", NAN), ("inf", INF), ("text", "1"), ("none", None)):
        case("modulator-params", f"ModulatorKinetics({f}={label})",
             lambda n=f, v=value: nm.ModulatorKinetics("X", **{n: v}), f)
for label, kwargs, name in [("delay<0", dict(release_delay_ms=-1.0), "release_delay_ms"),
                            ("rise<0", dict(rise_tau_ms=-1.0), "rise_tau_ms"),
                            ("decay=0", dict(decay_tau_ms=0.0), "decay_tau_ms"),
                            ("rise>=decay", dict(rise_tau_ms=300.0, decay_tau_ms=200.0), "rise_tau_ms"),
                            ("baseline<0", dict(tonic_baseline=-0.1), "tonic_baseline"),
                            ("drive unknown", dict(drive="pulse"), "drive")]:
    case("modulator-params", f"ModulatorKinetics({label})",
         lambda k=kwargs: nm.ModulatorKinetics("X", **k), name)
EFFECT_GAINS = [f.name for f in fields(nm.NeuromodulatorEffects) if type(f.default) is float]
EFFECT_SWITCHES = [f.name for f in fields(nm.NeuromodulatorEffects) if type(f.default) is bool]
for f in EFFECT_GAINS:
    for label, value in (("nan", NAN), ("negative", -1.0), ("text", "1")):
        case("modulator-params", f"NeuromodulatorEffects({f}={label})",
             lambda n=f, v=value: nm.NeuromodulatorEffects(**{n: v}), f)
for f in EFFECT_SWITCHES:
    case("modulator-params", f"NeuromodulatorEffects({f}=text)",
         lambda n=f: nm.NeuromodulatorEffects(**{n: "yes"}), f)
for label, kwargs, name in [("dt_ms=0", dict(dt_ms=0.0), "dt_ms"), ("dt_ms nan", dict(dt_ms=NAN), "dt_ms"),
                            ("dopamine_signal", dict(dopamine_signal="money"), "dopamine_signal"),
                            ("third factor", dict(dopamine_third_factor="vibes"), "dopamine_third_factor"),
                            ("ach_novelty_weight nan", dict(ach_novelty_weight=NAN), "ach_novelty_weight"),
                            ("ach_uncertainty_weight<0", dict(ach_uncertainty_weight=-1.0),
                             "ach_uncertainty_weight"),
                            ("kinetics not a dict", dict(kinetics=[1, 2]), "kinetics"),
                            ("effects wrong type", dict(effects="all"), "effects")]:
    case("modulator-params", f"NeuromodulatorSystem({label})",
         lambda k=kwargs: nm.NeuromodulatorSystem(**k), name)
for signal_name in ("rpe", "reward", "novelty", "uncertainty", "surprise", "serotonin"):
    for label, value in (("nan", NAN), ("inf", INF), ("text", "1")):
        case("modulator-signal", f"NeuromodulatorSystem.step({signal_name}={label})",
             lambda s=signal_name, v=value: nm.NeuromodulatorSystem().step(**{s: v}), signal_name)
for label, kwargs, name in [("dt_ms=0", dict(dt_ms=0.0), "dt_ms"),
                            ("short_tau_ms<0", dict(short_tau_ms=-1.0), "short_tau_ms"),
                            ("long<short", dict(short_tau_ms=1000.0, long_tau_ms=10.0), "long_tau_ms"),
                            ("utility_floor<0", dict(utility_floor=-1.0), "utility_floor")]:
    case("modulator-params", f"UtilityMonitor({label})", lambda k=kwargs: nm.UtilityMonitor(**k), name)
for label, dt in (("zero", 0.0), ("nan", NAN), ("negative", -1.0)):
    case("modulator-params", f"Neuromodulator(dt_ms={label})",
         lambda d=dt: nm.Neuromodulator(nm.dopamine(), d), "dt_ms")
for label, value in (("nan", NAN), ("inf", -INF), ("text", "1")):
    case("modulator-signal", f"Neuromodulator.step({label})",
         lambda v=value: nm.Neuromodulator(nm.dopamine()).step(v), "signal")
case("modulator-signal", "time_course(signal nan)",
     lambda: nm.time_course(nm.dopamine(), [0.0, NAN]), "finite")


# ---------------------------------------------------------------- spiking engine run-time
def _net():
    from agents.snn import workload_w
    return workload_w(n_neurons=50, fanout=5, population_size=1)


for label, steps in (("neg", -1), ("float", 2.5), ("text", "3"), ("none", None)):
    case("engine", f"Network.run(n_steps={label})", lambda s=steps: _net().run(s), "step")
for label, weights in (("nan", NAN), ("inf", INF)):
    case("engine", f"Network.set_weights({label})",
         lambda w=weights: _net().set_weights(np.full(_net().synapse_table()["pre"].size, w)),
         "weights")
case("engine", "Network.spikes(network=-1)", lambda: _net().spikes(-1), "range")
case("engine", "Network.load_state_dict(missing keys)", lambda: _net().load_state_dict({}),
     "state", errors=(ValueError, TypeError, KeyError))


# ---------------------------------------------------------------- checkpoints
_CHECKPOINTS: dict[str, bytes] = {}


def _checkpoint_bytes(kind: str) -> bytes:
    """A small trained checkpoint of ``kind`` ("twin" / "spiking"), made once."""
    if kind not in _CHECKPOINTS:
        import tempfile
        cls = RateTwinAgent if kind == "twin" else SpikingAgent
        agent = cls("CartPole-v1", seed=0)
        agent.learn(30)
        with tempfile.TemporaryDirectory() as tmp:
            _CHECKPOINTS[kind] = Path(agent.save(Path(tmp) / "agent")).read_bytes()
    return _CHECKPOINTS[kind]


def _load_bytes(kind: str, mutate: Callable[[bytes], bytes], name: str):
    import tempfile

    def call():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(mutate(_checkpoint_bytes(kind)))
            cls = RateTwinAgent if kind == "twin" else SpikingAgent
            return cls.load(path)
    return call


def _rewrite(kind: str, edit: Callable[[dict, dict], None]) -> Callable[[bytes], bytes]:
    """A checkpoint whose arrays / metadata were edited, written back as a valid archive."""
    def mutate(data: bytes) -> bytes:
        import io
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
        meta = json.loads(arrays.pop("__metadata_json__").tobytes())
        edit(arrays, meta)
        raw = meta.pop("__raw__") if "__raw__" in meta else json.dumps(meta).encode()
        arrays["__metadata_json__"] = np.frombuffer(raw, np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()
    return mutate


def _truncate(fraction: float) -> Callable[[bytes], bytes]:
    return lambda data: data[:int(len(data) * fraction)]


for kind in ("twin", "spiking"):
    for fraction in (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        name = f"truncated_{kind}_{int(fraction * 100)}.npz"
        case("checkpoint", f"{kind} truncated at {fraction:.0%}", _load_bytes(kind, _truncate(fraction), name),
             name)
    edits: list[tuple[str, Callable[[dict, dict], None]]] = [
        ("format version 0", lambda a, m: m.update(format_version=0)),
        ("format version 2", lambda a, m: m.update(format_version=2)),
        ("format version text", lambda a, m: m.update(format_version="1")),
        ("format version missing", lambda a, m: m.pop("format_version")),
        ("agent kind other", lambda a, m: m.update(agent_kind="ppo")),
        ("metadata not JSON", lambda a, m: m.update(__raw__=b"{not json")),
        ("metadata a list", lambda a, m: m.update(__raw__=b"[1, 2]")),
        ("metadata not UTF-8", lambda a, m: m.update(__raw__=b"\xff\xfe\x00")),
        ("weights missing", lambda a, m: a.pop("weights")),
        ("weights nan", lambda a, m: a["weights"].fill(NAN)),
        ("weights wrong shape", lambda a, m: a.update(weights=a["weights"][:, :3])),
        ("weights text dtype", lambda a, m: a.update(weights=np.array(["a"]))),
        ("params unknown key", lambda a, m: m["params"].update(no_such_param=1)),
        ("params gamma 5", lambda a, m: m["params"].update(gamma=5.0)),
        ("params a list", lambda a, m: m.update(params=[1, 2])),
        ("architecture unknown", lambda a, m: m.update(architecture="transformer")),
        ("architecture missing", lambda a, m: m.pop("architecture")),
        ("seed negative", lambda a, m: m.update(seed=-4)),
        ("observation space unsupported", lambda a, m: m.update(observation_space={"type": "Graph"})),
        ("action space missing", lambda a, m: m.pop("action_space")),
        ("num_timesteps text", lambda a, m: m.update(num_timesteps="many")),
        ("reward_baseline nan", lambda a, m: m.update(reward_baseline="NaN")),
        ("task_dt_ms negative", lambda a, m: m.update(task_dt_ms=-20.0)),
    ]
    for label, edit in edits:
        name = f"{kind}_{label.replace(' ', '_')}.npz"
        case("checkpoint", f"{kind} {label}", _load_bytes(kind, _rewrite(kind, edit), name), name)


def _flip(position: float, bit: int) -> Callable[[bytes], bytes]:
    def mutate(data: bytes) -> bytes:
        flipped = bytearray(data)
        flipped[int(position * (len(data) - 1))] ^= 1 << bit
        return bytes(flipped)
    return mutate


def _loaded_state(agent) -> tuple:
    return (agent.weights.tobytes(), agent.params, agent.architecture, agent.rule, agent.seed,
            agent.num_timesteps, agent.reward_baseline, agent.env_id, agent.task_dt_ms)


def assert_flip_refused_or_harmless(kind: str, position: float, bit: int, tmp: Path) -> bool:
    """A bit flip is either refused (-> True) or provably harmless: the loaded agent equals
    the original exactly (bytes no reader looks at, e.g. a zip header's 'version made by')."""
    cls = RateTwinAgent if kind == "twin" else SpikingAgent
    original = tmp / "original.npz"
    original.write_bytes(_checkpoint_bytes(kind))
    name = f"flipped_{kind}.npz"
    path = tmp / name
    path.write_bytes(_flip(position, bit)(_checkpoint_bytes(kind)))
    try:
        with watchdog(HANG_S):
            loaded = cls.load(path)
    except (ValueError, TypeError) as error:
        assert name in str(error), f"flip at {position:.3f}/{bit}: message lacks the file: {error}"
        return True
    except BaseException as error:  # noqa: BLE001
        raise AssertionError(f"flip at {position:.3f} bit {bit}: {type(error).__name__}: "
                             f"{error}") from None
    assert _loaded_state(loaded) == _loaded_state(cls.load(original)), (
        f"flip at {position:.3f} bit {bit} was loaded silently and changed the agent")
    return False


FLIPS = [(i / 40, bit) for i in range(40) for bit in (0, 7)]
# The zip central directory and end record (the last few hundred bytes) hold the headers
# the reader trusts: about every byte of the last 10%, bit 0 or 5 (5 hits zip's flag bits).
TAIL_FLIPS = [(1.0 - i / 3600, 5 if i % 2 else 0) for i in range(1, 361)]


# ---------------------------------------------------------------- sweep API
def _sweep(tmp_factory, **change):
    from neuromod_gym.experiments.sweep import run_sweep

    def call():
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            args = dict(tasks=["CartPole-v1"], agents=["twin"], seeds=1, budget=10,
                        eval_every=5, out=Path(tmp) / "run", progress=False)
            args.update(change)
            return run_sweep(**args)
    return call


for label, change, name in [
    ("seeds duplicated", dict(seeds=[1, 1]), "seeds"), ("seed negative", dict(seeds=[-1]), "seed"),
    ("seed float", dict(seeds=[0.5]), "seed"), ("seeds empty", dict(seeds=[]), "seeds"),
    ("budget nan", dict(budget=NAN), "budget"), ("budget text", dict(budget="10"), "budget"),
    ("budget bool", dict(budget=True), "budget"), ("eval_every 0", dict(eval_every=0), "eval_every"),
    ("eval_episodes 0", dict(eval_episodes=0), "eval_episodes"), ("workers 0", dict(workers=0), "workers"),
    ("workers float", dict(workers=1.5), "workers"), ("tasks empty", dict(tasks=[]), "task"),
    ("agents empty", dict(agents=[]), "agent"), ("agent not a string", dict(agents=[3]), "agent"),
    ("agent blank", dict(agents=["  "]), "agent"), ("task None", dict(tasks=[None]), "task"),
    ("agent twin:rstdp:hebbian", dict(agents=["twin:rstdp:hebbian"]), "twin:rstdp:hebbian"),
    ("agent spiking+", dict(agents=["spiking+"]), "modulator"),
    ("agent dqn-da", dict(agents=["dqn-da"]), "dqn-da"),
    ("backend ray typo", dict(backend="Ray"), "backend"),
]:
    case("sweep", f"run_sweep({label})", _sweep(None, **change), name)


# ---------------------------------------------------------------- command line
class _Cli:
    """``neuromod-gym ARGV`` in-process; a refusal is exit status 2 with a reason on stderr."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.stderr = ""

    def __call__(self):
        import io
        import tempfile
        from contextlib import redirect_stderr, redirect_stdout

        from neuromod_gym.cli import main

        with tempfile.TemporaryDirectory() as tmp:
            argv = [a.replace("{tmp}", tmp) for a in self.argv]
            if "{tmp}/file" in " ".join(self.argv):
                Path(tmp, "file").write_text("")
            if "{tmp}/badrun" in " ".join(self.argv):
                Path(tmp, "badrun").mkdir()
                Path(tmp, "badrun", "config.json").write_text(self.config_text)
            err = io.StringIO()
            try:
                with redirect_stderr(err), redirect_stdout(io.StringIO()):
                    status = main(argv)
            except SystemExit as exit_:
                status = exit_.code
            self.stderr = err.getvalue()
        if status == 2:
            raise SystemExit(2)
        return status

    config_text = "{}"

    def captured_stderr(self) -> str:
        return self.stderr


COMPARE = ["compare", "--tasks", "CartPole-v1", "--agents", "twin", "--budget", "10",
           "--eval-every", "5", "--out", "{tmp}/run"]


def _with(argv: list[str], flag: str, *values: str) -> list[str]:
    out = list(argv)
    if flag in out:
        i = out.index(flag)
        j = i + 1
        while j < len(out) and not out[j].startswith("--"):
            j += 1
        del out[i:j]
    return out + [flag, *values]


CLI_CASES: list[tuple[str, list[str], str]] = [
    ("compare --budget 0", _with(COMPARE, "--budget", "0"), "0"),
    ("compare --budget -5", _with(COMPARE, "--budget", "-5"), "-5"),
    ("compare --budget abc", _with(COMPARE, "--budget", "abc"), "abc"),
    ("compare --budget 1.5", _with(COMPARE, "--budget", "1.5"), "1.5"),
    ("compare --budget nan", _with(COMPARE, "--budget", "nan"), "nan"),
    ("compare --seeds 0", _with(COMPARE, "--seeds", "0"), "0"),
    ("compare --seeds x", _with(COMPARE, "--seeds", "x"), "x"),
    ("compare --eval-every 0", _with(COMPARE, "--eval-every", "0"), "0"),
    ("compare --eval-every > budget", _with(COMPARE, "--eval-every", "999"), "eval_every"),
    ("compare --eval-episodes 0", _with(COMPARE, "--eval-episodes", "0"), "0"),
    ("compare --workers 0", _with(COMPARE, "--workers", "0"), "0"),
    ("compare --backend dask", _with(COMPARE, "--backend", "dask"), "dask"),
    ("compare --tasks Nope-v0", _with(COMPARE, "--tasks", "Nope-v0"), "Nope-v0"),
    ("compare --tasks ''", _with(COMPARE, "--tasks", ""), "task"),
    ("compare --agents nope", _with(COMPARE, "--agents", "nope"), "nope"),
    ("compare --agents spiking:mlp", _with(COMPARE, "--agents", "spiking:mlp"), "mlp"),
    ("compare --agents spiking+dopa", _with(COMPARE, "--agents", "spiking+dopa"), "+dopa"),
    ("compare --agents ppo:x", _with(COMPARE, "--agents", "ppo:x"), "ppo:x"),
    ("compare --out unwritable", _with(COMPARE, "--out", "{tmp}/file/run"), "not writable"),
    ("compare without --budget", [a for a in COMPARE if a not in ("--budget", "10")], "--budget"),
    ("compare --threshold no '='", COMPARE + ["--threshold", "CartPole-v1"], "CartPole-v1"),
    ("compare --threshold unknown task", COMPARE + ["--threshold", "Nope-v0=5"], "Nope-v0"),
    ("compare --threshold not a number", COMPARE + ["--threshold", "CartPole-v1=high"], "high"),
    ("compare --rerun missing dir", ["compare", "--rerun", "{tmp}/missing"], "config.json"),
    ("compare --rerun config not JSON", ["compare", "--rerun", "{tmp}/badrun"], "config.json"),
    ("compare --rerun config without sweep", ["compare", "--rerun", "{tmp}/badrun"], "config.json"),
    ("compare --no-such-flag", COMPARE + ["--no-such-flag"], "--no-such-flag"),
    ("train --seed -1", ["train", "--task", "CartPole-v1", "--agent", "twin", "--budget", "10",
                         "--seed", "-1", "--out", "{tmp}/t"], "seed"),
    ("train --seed x", ["train", "--task", "CartPole-v1", "--agent", "twin", "--budget", "10",
                        "--seed", "x", "--out", "{tmp}/t"], "x"),
    ("train --agent nope", ["train", "--task", "CartPole-v1", "--agent", "nope", "--budget", "10",
                            "--out", "{tmp}/t"], "nope"),
    ("train --task Nope", ["train", "--task", "Nope-v0", "--agent", "twin", "--budget", "10",
                           "--out", "{tmp}/t"], "Nope-v0"),
    ("train without --out", ["train", "--task", "CartPole-v1", "--agent", "twin", "--budget", "10"],
     "--out"),
    ("train --eval-every 0", ["train", "--task", "CartPole-v1", "--agent", "twin", "--budget", "10",
                              "--eval-every", "0", "--out", "{tmp}/t"], "0"),
    ("plot missing run", ["plot", "{tmp}/nothing"], "results.csv"),
    ("unknown command", ["fly"], "fly"),
    ("no command", [], "command"),
]
for label, argv, name in CLI_CASES:
    call = _Cli(argv)
    if "config not JSON" in label:
        call.config_text = "{not json"
    elif "config without sweep" in label:
        call.config_text = json.dumps({"resolved": {}})
    case("cli", label, call, name, errors=(SystemExit,),
         raised_in=(str(Path(__file__)),))


# ============================================================================ tests
def test_fuzz_corpus_is_large_and_distinct():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate bad-input labels"
    assert len(ids) >= 200, f"only {len(ids)} distinct bad inputs"
    surfaces = {c.surface for c in CASES}
    assert {"task-ctor", "task-step", "agent-params", "rule-params", "modulator-params",
            "checkpoint", "cli"} <= surfaces


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_with_a_readable_error(bad: BadInput):
    if bad.surface == "checkpoint":  # train + save (and numba compile) outside the watchdog
        _checkpoint_bytes("twin"), _checkpoint_bytes("spiking")
    assert_refused(bad)


@pytest.mark.parametrize("kind", ["twin", "spiking"])
def test_bit_flipped_checkpoints_are_refused_or_provably_harmless(kind, tmp_path):
    refused = sum(assert_flip_refused_or_harmless(kind, position, bit, tmp_path)
                  for position, bit in FLIPS)
    # The archive is mostly CRC-checked payload: nearly every flip must be caught.
    assert refused >= 0.8 * len(FLIPS), f"only {refused} of {len(FLIPS)} flips refused"
    if kind == "twin":  # the headers (cheap to load: the twin has no network to build)
        for position, bit in TAIL_FLIPS:
            assert_flip_refused_or_harmless(kind, position, bit, tmp_path)


# ---------------------------------------------------------------- hypothesis on top
FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

bad_discrete_actions = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=2),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3), st.none(),
    st.lists(st.integers(0, 1), min_size=2, max_size=3), st.booleans())


@FAST
@given(action=bad_discrete_actions)
def test_any_bad_action_is_refused_naming_the_action(action):
    env = gym.make("neuromod_gym/ReversalBandit-v0")  # 2 arms: actions 0 and 1 only
    env.reset(seed=0)
    error = refusal(lambda: env.step(action))
    assert "action" in str(error)


bad_floats = st.one_of(st.just(NAN), st.just(INF), st.just(-INF), st.text(max_size=2),
                       st.none())


@FAST
@given(field_name=st.sampled_from(AGENT_NUMBER_FIELDS), value=bad_floats)
def test_any_non_number_agent_parameter_is_refused_naming_it(field_name, value):
    error = refusal(lambda: SpikingAgent("CartPole-v1", **{field_name: value}))
    assert field_name in str(error)


@FAST
@given(rule=st.sampled_from(sorted(RULES)), data=st.data())
def test_any_negative_time_constant_of_a_rule_is_refused_naming_it(rule, data):
    taus = [f.name for f in fields(RULES[rule]) if f.name.endswith("_ms")]
    name = data.draw(st.sampled_from(taus))
    value = data.draw(st.floats(max_value=0.0, allow_nan=False))
    error = refusal(lambda: get_rule(rule, **{name: value}))
    assert name in str(error)


@FAST
@given(position=st.floats(0.0, 1.0), bit=st.integers(0, 7))
def test_any_bit_flip_in_a_checkpoint_is_refused_or_harmless(position, bit, tmp_path_factory):
    assert_flip_refused_or_harmless("twin", position, bit, tmp_path_factory.mktemp("flip"))
