"""The signal contract between tasks and agents, and the ideal-observer estimators behind it.

Every neuromod-gym task returns, in ``info`` at ``reset`` and at every ``step``:

=================  ==========================================================  ============
key                meaning                                                     drives
=================  ==========================================================  ============
``novelty``        float in [0, 1]: how unfamiliar the current cue/state is    ACh
                   (1 = never seen since the last ``reset(seed=...)``)
``surprise``       float >= 0, nats: -log p(outcome) under an ideal OBSERVER    NE (phasic)
                   that sees only what the agent sees (observations, actions,
                   rewards). It rises in the trials after an unsignalled
                   change, not at the hidden change itself.
``uncertainty``    float >= 0, nats: expected (known) outcome variability as   ACh
                   that observer estimates it (entropy of its prediction)
``t_ms``           float, the task's clock in ms since the episode began;      timing
                   each step advances ``env.unwrapped.dt_ms``
``events``         tuple of str: event names this step the agent could         plots
                   perceive (``"cue"``, ``"reward"``, ...)
``latent``         dict of hidden ground truth, for analysis and plots ONLY;   nothing
                   agents never read it
=================  ==========================================================  ============

Fairness rule: ``novelty``, ``surprise`` and ``uncertainty`` carry no information the
agent could not compute itself. They are a shared, inspectable implementation of the
estimators (:class:`VisitNovelty`, :class:`OutcomeObserver`) so comparisons stay fair.
Reward stays the ordinary Gymnasium reward; dopamine is computed by the agent.

:class:`NeuromodulatorySignals` adds the same keys to ANY Gymnasium env (Box, Discrete,
MultiDiscrete or MultiBinary observations), estimated from experience.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Mapping
from typing import Any

import gymnasium as gym
import numpy as np

NOVELTY = "novelty"
SURPRISE = "surprise"
UNCERTAINTY = "uncertainty"
T_MS = "t_ms"
EVENTS = "events"
LATENT = "latent"

#: Keys an agent may read.
SIGNAL_KEYS: tuple[str, ...] = (NOVELTY, SURPRISE, UNCERTAINTY, T_MS, EVENTS)
#: Every key a task must put in ``info`` (``latent`` is for analysis only).
CONTRACT_KEYS: tuple[str, ...] = SIGNAL_KEYS + (LATENT,)

#: Event names shared by tasks and wrappers.
EVENT_REWARD = "reward"
EVENT_EPISODE_END = "episode_end"

_STATE_FORMAT_VERSION = 1


def validate_info(info: Mapping[str, Any]) -> None:
    """Check that one (unbatched) ``info`` dict satisfies the signal contract.

    Raises:
        ValueError: naming the missing key or the offending value.
    """
    if not isinstance(info, Mapping):
        raise ValueError(f"info must be a dict, got {type(info).__name__}")
    missing = [key for key in CONTRACT_KEYS if key not in info]
    if missing:
        raise ValueError(f"info is missing signal-contract keys {missing}; present: {sorted(info)}")
    for key in (NOVELTY, SURPRISE, UNCERTAINTY, T_MS):
        value = info[key]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"info[{key!r}] must be a real number, got {value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"info[{key!r}] must be finite, got {value!r}")
    if not 0.0 <= float(info[NOVELTY]) <= 1.0:
        raise ValueError(f"info['novelty'] must lie in [0, 1], got {info[NOVELTY]!r}")
    for key in (SURPRISE, UNCERTAINTY, T_MS):
        if float(info[key]) < 0.0:
            raise ValueError(f"info[{key!r}] must be >= 0, got {info[key]!r}")
    events = info[EVENTS]
    if not isinstance(events, tuple) or not all(isinstance(e, str) for e in events):
        raise ValueError(f"info['events'] must be a tuple of str, got {events!r}")
    if not isinstance(info[LATENT], dict):
        raise ValueError(f"info['latent'] must be a dict, got {type(info[LATENT]).__name__}")
    for key, value in info[LATENT].items():
        # Plain values keep run folders JSON-serialisable and vector-env batching simple.
        if not isinstance(key, str) or not isinstance(value, (bool, int, float, str)):
            raise ValueError(f"info['latent'][{key!r}] must be a str-keyed bool/int/float/str, got {value!r}")


def _json_key(key: Hashable) -> Any:
    """Keys are ints or (nested) tuples of ints/floats/bools; JSON turns tuples into lists."""
    if isinstance(key, tuple):
        return [_json_key(k) for k in key]
    return key


def _from_json_key(key: Any) -> Hashable:
    if isinstance(key, list):
        return tuple(_from_json_key(k) for k in key)
    return key


class VisitNovelty:
    """Count-based novelty: ``novelty = 1 / sqrt(1 + n)`` with n the earlier visits.

    The 1/sqrt(n) decay is the count-based exploration bonus of MBIE-EB (Strehl &
    Littman 2008); it is 1 on the first visit and falls with every repeat visit.
    """

    def __init__(self) -> None:
        self.visits: dict[Hashable, int] = {}

    def peek(self, key: Hashable) -> float:
        """Novelty of ``key`` without counting a visit."""
        return 1.0 / math.sqrt(1.0 + self.visits.get(key, 0))

    def visit(self, key: Hashable) -> float:
        """Return the novelty of ``key`` as it is seen now, then count the visit."""
        novelty = self.peek(key)
        self.visits[key] = self.visits.get(key, 0) + 1
        return novelty

    def clear(self) -> None:
        self.visits.clear()

    def state_dict(self) -> dict[str, Any]:
        return {"visits": [[_json_key(k), n] for k, n in self.visits.items()]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        visits = {}
        for entry in state["visits"]:
            key, count = entry
            if not isinstance(count, int) or count < 0:
                raise ValueError(f"novelty state: visit count must be a non-negative int, got {count!r}")
            visits[_from_json_key(key)] = count
        self.visits = visits


class OutcomeObserver:
    """Ideal observer of outcomes given a context, with forgetting for volatile worlds.

    For each context c it keeps leaky counts n_c(o) of the outcomes o seen there. Its
    predictive distribution is the Dirichlet-multinomial posterior predictive

        p(o | c) = (n_c(o) + prior) / (N_c + K * prior)                (K outcomes known)

    or, when the outcome set is open (``n_outcomes=None``), the Chinese-restaurant
    process predictive: p(o | c) = n_c(o) / (N_c + prior) for seen outcomes and
    prior / (N_c + prior) for any unseen one. Before each update the counts of c are
    multiplied by ``retention`` (1 = stationary world; < 1 = exponential forgetting
    with an effective memory of 1 / (1 - retention) visits, which lets surprise rise
    again after an unsignalled change, Behrens et al. 2007).

    ``surprise = -log p(o | c)`` (nats) and ``uncertainty`` = the entropy of
    p(. | c) (nats; for an open outcome set, the unseen outcomes count as one). With an
    open outcome set the first outcome in a new context costs 0 nats (nothing was
    expected yet, so nothing can be violated); novelty, not surprise, reports it. Use
    ``n_outcomes`` when the outcome set is known and the first outcome should cost
    log K. Forgetting is per visit of a context, not per unit of time, so a rarely
    visited context keeps its old evidence longer.
    """

    def __init__(self, n_outcomes: int | None = None, prior: float = 1.0, retention: float = 1.0):
        if n_outcomes is not None and (not isinstance(n_outcomes, (int, np.integer)) or n_outcomes < 1):
            raise ValueError(f"n_outcomes must be a positive int or None, got {n_outcomes!r}")
        if not (math.isfinite(prior) and prior > 0):
            raise ValueError(f"prior must be a finite positive pseudo-count, got {prior!r}")
        if not (math.isfinite(retention) and 0.0 < retention <= 1.0):
            raise ValueError(f"retention must lie in (0, 1], got {retention!r}")
        self.n_outcomes = None if n_outcomes is None else int(n_outcomes)
        self.prior = float(prior)
        self.retention = float(retention)
        self.counts: dict[Hashable, dict[Hashable, float]] = {}

    def _check_outcome(self, outcome: Hashable) -> None:
        if self.n_outcomes is not None and not (
            isinstance(outcome, (int, np.integer)) and 0 <= outcome < self.n_outcomes
        ):
            raise ValueError(f"outcome must be an int in [0, {self.n_outcomes}), got {outcome!r}")

    def probability(self, context: Hashable, outcome: Hashable) -> float:
        """Predictive probability of ``outcome`` in ``context`` (no update)."""
        self._check_outcome(outcome)
        counts = self.counts.get(context, {})
        total = sum(counts.values())
        if self.n_outcomes is not None:
            return (counts.get(outcome, 0.0) + self.prior) / (total + self.n_outcomes * self.prior)
        if counts.get(outcome, 0.0) > 0.0:
            return counts[outcome] / (total + self.prior)
        return self.prior / (total + self.prior)

    def uncertainty(self, context: Hashable) -> float:
        """Entropy (nats) of the predictive distribution in ``context`` (no update)."""
        counts = self.counts.get(context, {})
        total = sum(counts.values())
        if self.n_outcomes is not None:
            denominator = total + self.n_outcomes * self.prior
            unseen = self.n_outcomes - len(counts)
            probabilities = [(n + self.prior) / denominator for n in counts.values()]
            probabilities += [self.prior / denominator] * unseen
        else:
            denominator = total + self.prior
            probabilities = [n / denominator for n in counts.values()] + [self.prior / denominator]
        return float(-sum(p * math.log(p) for p in probabilities if p > 0.0))

    def observe(self, context: Hashable, outcome: Hashable) -> tuple[float, float]:
        """Score ``outcome`` in ``context``, then learn from it.

        Returns:
            (surprise, uncertainty): both in nats, computed BEFORE the update, so the
            uncertainty is the surprise the observer expected on average.
        """
        surprise = -math.log(self.probability(context, outcome))
        uncertainty = self.uncertainty(context)
        counts = self.counts.setdefault(context, {})
        if self.retention < 1.0:
            for key in counts:
                counts[key] *= self.retention
        counts[outcome] = counts.get(outcome, 0.0) + 1.0
        return surprise, uncertainty

    def clear(self) -> None:
        self.counts.clear()

    def state_dict(self) -> dict[str, Any]:
        return {
            "counts": [
                [_json_key(context), [[_json_key(o), n] for o, n in outcomes.items()]]
                for context, outcomes in self.counts.items()
            ]
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        counts: dict[Hashable, dict[Hashable, float]] = {}
        for context, outcomes in state["counts"]:
            table = {}
            for outcome, n in outcomes:
                if not (isinstance(n, (int, float)) and math.isfinite(n) and n >= 0):
                    raise ValueError(f"observer state: counts must be finite and >= 0, got {n!r}")
                table[_from_json_key(outcome)] = float(n)
            counts[_from_json_key(context)] = table
        self.counts = counts


class ObservationDiscretizer:
    """Maps an observation of a Gymnasium space to a hashable key for counting.

    Box dimensions with finite bounds are cut into ``bins`` equal bins over [low, high]
    (an odd default, so that symmetric ranges get a bin centred on zero rather than a
    bin edge there, which would split e.g. CartPole's start states into 16 cells);
    unbounded dimensions are first squashed by x / (scale + |x|) into (-1, 1), so that
    |x| = scale lands at +-0.5 (``unbounded_scale``, in the observation's own units).
    Observations with more than ``max_tuple_dims`` entries are hashed (BLAKE2b) so the
    tables stay small for images.
    """

    def __init__(self, space: gym.Space, bins: int = 11, unbounded_scale: float = 1.0, max_tuple_dims: int = 64):
        if not isinstance(bins, (int, np.integer)) or bins < 1:
            raise ValueError(f"bins must be a positive int, got {bins!r}")
        if not (math.isfinite(unbounded_scale) and unbounded_scale > 0):
            raise ValueError(f"unbounded_scale must be finite and > 0, got {unbounded_scale!r}")
        if not isinstance(space, (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)):
            raise ValueError(
                f"NeuromodulatorySignals supports Box, Discrete, MultiDiscrete and MultiBinary "
                f"observation spaces, got {space}"
            )
        self.space = space
        self.bins = int(bins)
        self.unbounded_scale = float(unbounded_scale)
        self.max_tuple_dims = int(max_tuple_dims)
        if isinstance(space, gym.spaces.Box):
            low = space.low.astype(np.float64).ravel()
            high = space.high.astype(np.float64).ravel()
            # Ranges wider than 1e6 are placeholders for "unbounded" (e.g. float32 max).
            self._bounded = np.isfinite(low) & np.isfinite(high) & ((high - low) < 1e6)
            self._low = np.where(self._bounded, low, -1.0)
            self._width = np.where(self._bounded, high - low, 2.0)

    def __call__(self, observation: Any) -> Hashable:
        space = self.space
        if isinstance(space, gym.spaces.Discrete):
            return int(observation)
        values = np.asarray(observation)
        if values.shape != space.shape:
            raise ValueError(f"observation shape {values.shape} does not match the space's {space.shape}")
        if isinstance(space, gym.spaces.Box):
            x = values.astype(np.float64).ravel()
            if not np.all(np.isfinite(x)):
                raise ValueError(f"observation contains NaN or inf: {observation!r}")
            squashed = x / (self.unbounded_scale + np.abs(x))
            x = np.where(self._bounded, x, squashed)
            index = np.floor((x - self._low) / self._width * self.bins)
            cells = np.clip(index, 0, self.bins - 1).astype(np.int64)
        else:
            cells = values.astype(np.int64).ravel()
        if cells.size > self.max_tuple_dims:
            return int.from_bytes(hashlib.blake2b(cells.tobytes(), digest_size=8).digest(), "little")
        return tuple(int(c) for c in cells)


class NeuromodulatorySignals(gym.Wrapper):
    """Add the signal-contract keys to any Gymnasium environment.

    ``novelty``: :class:`VisitNovelty` over the discretised observation.
    ``surprise`` / ``uncertainty``: an :class:`OutcomeObserver` with an open outcome set,
    context = (discretised observation, action), outcome = (discretised next
    observation, reward rounded to ``reward_decimals``, terminated).
    ``t_ms``: ``dt_ms`` per step (the env's own ``unwrapped.dt_ms`` when it has one).
    ``events``: ``"reward"`` on a non-zero reward, ``"episode_end"`` on termination or
    truncation. ``latent``: ``{}`` (nothing hidden is known here).

    Keys the wrapped env already provides are passed through untouched, so wrapping
    a neuromod-gym task changes nothing. Memory is cleared by ``reset(seed=...)`` and
    kept by a plain ``reset()``; :meth:`state_dict` / :meth:`load_state_dict` save it.

    Args:
        env: any env with a Box/Discrete/MultiDiscrete/MultiBinary observation space.
        dt_ms: ms of task time per step, used when the env declares none.
        bins: bins per Box dimension for the discretisation.
        unbounded_scale: squashing scale for unbounded Box dimensions (obs units).
        retention: forgetting factor of the outcome observer, in (0, 1].
        reward_decimals: rewards are rounded to this many decimals to form outcomes.
    """

    def __init__(
        self,
        env: gym.Env,
        dt_ms: float = 20.0,
        bins: int = 11,
        unbounded_scale: float = 1.0,
        retention: float = 1.0,
        reward_decimals: int = 3,
    ):
        super().__init__(env)
        own_dt = getattr(env.unwrapped, "dt_ms", None)
        dt_ms = float(own_dt) if own_dt is not None else float(dt_ms)
        if not (math.isfinite(dt_ms) and dt_ms > 0):
            raise ValueError(f"dt_ms must be finite and > 0, got {dt_ms!r}")
        self.dt_ms = dt_ms
        self.reward_decimals = int(reward_decimals)
        self._discretize = ObservationDiscretizer(env.observation_space, bins, unbounded_scale)
        self._action_key = ObservationDiscretizer(env.action_space, bins) if not isinstance(
            env.action_space, gym.spaces.Discrete
        ) else (lambda a: int(a))
        self.novelty_memory = VisitNovelty()
        self.outcome_memory = OutcomeObserver(n_outcomes=None, prior=1.0, retention=retention)
        self._state_key: Hashable | None = None
        self._t_ms = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            self.novelty_memory.clear()
            self.outcome_memory.clear()
        observation, info = self.env.reset(seed=seed, options=options)
        self._t_ms = 0.0
        self._state_key = self._discretize(observation)
        signals = {
            NOVELTY: self.novelty_memory.visit(self._state_key),
            SURPRISE: 0.0,
            UNCERTAINTY: 0.0,
            T_MS: self._t_ms,
            EVENTS: (),
            LATENT: {},
        }
        return observation, {**signals, **info}

    def step(self, action: Any):
        if self._state_key is None:
            raise RuntimeError("call reset() before step()")
        context = (self._state_key, self._action_key(action))
        observation, reward, terminated, truncated, info = self.env.step(action)
        reward_value = float(reward)
        if not math.isfinite(reward_value):
            raise ValueError(f"the wrapped env returned a non-finite reward {reward!r}")
        next_key = self._discretize(observation)
        outcome = (next_key, round(reward_value, self.reward_decimals), bool(terminated))
        surprise, uncertainty = self.outcome_memory.observe(context, outcome)
        self._t_ms += self.dt_ms
        events = []
        if reward_value != 0.0:
            events.append(EVENT_REWARD)
        if terminated or truncated:
            events.append(EVENT_EPISODE_END)
        signals = {
            NOVELTY: self.novelty_memory.visit(next_key),
            SURPRISE: surprise,
            UNCERTAINTY: uncertainty,
            T_MS: self._t_ms,
            EVENTS: tuple(events),
            LATENT: {},
        }
        self._state_key = next_key
        return observation, reward, terminated, truncated, {**signals, **info}

    def state_dict(self) -> dict[str, Any]:
        """The wrapper's memory as plain JSON-serialisable data."""
        return {
            "format_version": _STATE_FORMAT_VERSION,
            "novelty": self.novelty_memory.state_dict(),
            "outcomes": self.outcome_memory.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore memory saved by :meth:`state_dict`; refuses other formats."""
        if not isinstance(state, Mapping) or state.get("format_version") != _STATE_FORMAT_VERSION:
            found = state.get("format_version") if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(
                f"NeuromodulatorySignals state has format_version {found!r}, expected {_STATE_FORMAT_VERSION}"
            )
        novelty, outcomes = VisitNovelty(), OutcomeObserver(prior=1.0, retention=self.outcome_memory.retention)
        novelty.load_state_dict(state["novelty"])
        outcomes.load_state_dict(state["outcomes"])
        self.novelty_memory, self.outcome_memory = novelty, outcomes

