"""What the agents share: observation features, the RL wiring of each architecture, and
the learn / predict / save / load surface.

An agent is a *substrate* (spiking network in :mod:`agents.spiking_agent`, rate units in
:mod:`agents.twin`) under one RL core defined here, so the spiking agent and its
non-spiking twin differ only in how an observation becomes a readout and an eligibility.

Substrate contract, per env step (one "window" of ``step_ms`` of network time)::

    readout (n_groups,)       one number per output group (group rate / linear output)
    eligibility (n_out, n_in) local pre x post coincidence of each plastic synapse

Architectures (``architecture=``) say which groups exist and what third factor each
output unit receives; the weight change of synapse (input i -> output unit j) is always

    z_ji <- decay * z_ji + factor_j * eligibility_ji        (z: per-synapse trace)
    w_ji <- bound(w_ji + lr_j * gain * signal * z_ji)       (gain: neuromodulation;
                                                             hard or soft bounds)

* ``"actor_critic"``: a critic group (value affine in its rate) and one group per action
  (logits proportional to group rates, softmax sampling). ``signal`` = dopamine = TD
  error from the critic; ``factor`` = 1 for critic units and ``onehot(a) - p`` for the
  actor units of each action (the policy-gradient term of Chung & Kozma 2020; without it
  the actor does not learn). ``decay = gamma * trace_lambda``.
  Box actions (the only architecture that takes them) use a population-vector actor
  instead of the softmax groups: see "Box actions" below.
* ``"action_value"``: one group per action whose rate is Q(s, a); ``signal`` = TD error
  ``r + gamma max_a' Q(s', a') - Q(s, a)`` (``gamma = 0`` gives ``r - Q(a)`` for a bandit);
  ``factor`` = ``onehot(a)`` (only the chosen action's synapses learn).
* ``"rstdp"``: Izhikevich-style direct reward-modulated STDP policy: one group per
  action, action sampled from the group rates; ``signal`` = dopamine = scaled reward
  minus its running average; ``factor`` = 1; ``decay = trace_lambda`` per step (the
  eligibility trace spanning steps). Measured at chance on ReversalBandit and CartPole
  (BENCHMARKS.md): kept as the honest baseline the other two improve on.

Box actions (``actor_critic`` only): a population-vector readout (Georgopoulos, Schwartz &
Kettner 1986, Science 233:1416; the actor ring of Fremaux, Sprekeler & Gerstner 2013, PLoS
Comput Biol 9:e1003024) with a Gaussian policy. For an action Box of shape ``(D,)`` the actor
is ``N = n_action_directions`` units (spiking: groups of ``n_per_action`` LIF neurons), unit
k with a preferred unit vector u_k (:func:`preferred_directions`: D = 1 two opposed halves,
D = 2 a ring, D >= 3 +- each axis; always sum_k u_k u_k^T = (N / D) I and sum_k u_k = 0).
In the Box's normalised coordinates x = (action - centre) / half_range (so x in [-1, 1]^D)::

    mu    = action_scale * (D / N) * sum_k r_k u_k     (r_k: readout of unit k; a rate shared
                                                       by all units cancels)
    x     = mu + action_noise * eps,  eps ~ N(0, I)    (exploration; deterministic: x = mu)
    action = clip(centre + half_range * x, low, high)  (what the env receives)
    factor_k = ((x - mu) . u_k) / action_noise^2       (actor units; critic: 1)

``factor_k`` is the Gaussian policy gradient d log pi(x) / d r_k up to the constant
``action_scale * D / N`` (absorbed into ``actor_lr``, as ``logit_scale`` is for discrete
actions): the continuous analogue of ``onehot(a) - p``, computed from the unclipped sample.
DA is the critic's TD error as for discrete actions; tonic NE multiplies ``action_noise``
by its temperature.

Eligibility time course (``eligibility_rise_ms`` > 0; default 0 = the single exponential
above, bitwise unchanged): the trace gets a rise before its decay, a two-stage cascade per
env step (a difference of exponentials, as the ``yagishita`` rule preset; Yagishita et al.
2014, Science 345:1616: dopamine is effective 0.3-2 s after the pairing, not at it)::

    z1_ji <- a1 * z1_ji + factor_j * eligibility_ji     a1 = exp(-dt / eligibility_rise_ms)
    z_ji  <- decay * z_ji + (1 - a1) * z1_ji            dt = the task's ms per env step

A pairing k steps ago then weighs K(k) = (1 - a1) sum_{m=0..k} a1^m decay^(k-m): K(0) =
1 - a1 (a1 = 0 gives the single exponential exactly), the same area 1 / (1 - decay) as
the single exponential, a peak near ln(tau_d / tau_r) tau_d tau_r / (tau_d - tau_r)
(tau_r = eligibility_rise_ms, tau_d = -dt / ln(decay); at tau_r = tau_d the alpha function
k decay^k peaking at tau_d). So a DA signal arriving seconds after a pairing can find its
trace at its largest, while the few pairings just before it (never the cause of a delayed
reward) and those long before it weigh little (DistalReward-v0, BENCHMARKS.md).

Episode boundaries: neural state is reset at every episode start; on true termination the
next value is 0, on truncation the agent bootstraps from the value of the final
observation (truncation is not failure).
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import gymnasium as gym
import numba
import numpy as np
from gymnasium import spaces

from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.hyperparams import load_hyperparams
from neuromod_gym.signals import NOVELTY, SURPRISE, UNCERTAINTY

__all__ = [
    "ARCHITECTURES",
    "FeatureEncoder",
    "make_encoder",
    "AgentParams",
    "preferred_directions",
    "Neuromodulation",
    "ThreeFactorAgent",
]

ARCHITECTURES = ("actor_critic", "action_value", "rstdp")
ENCODERS = ("fourier", "gaussian", "onehot", "scaled", "constant", "place")
ENCODERS += ("scaled_no_bias",)
NE_DRIVES = ("surprise", "change_point")  # AgentParams.ne_drive


# ----------------------------------------------------------------------------- features
class FeatureEncoder:
    """Observation -> features in [0, 1] (the spiking agent multiplies them by its
    maximum input rate to get per-step spike probabilities).

    ``kind``:

    * ``"fourier"``: order-``n`` Fourier basis (Konidaris et al. 2011) over the observation
      scaled to [0, 1]^d: feature_c = (1 + cos(pi c . x)) / 2 for every integer vector c
      in {0..n}^d ((n+1)^d features; 81 for CartPole at order 2).
    * ``"gaussian"``: ``gaussian_per_dim`` Gaussian receptive fields per dimension,
      centres evenly over [0, 1], width = spacing (population coding).
    * ``"place"``: a grid of ``place_cells_per_side``^d place cells over the observation
      scaled to [0, 1]^d, each an isotropic Gaussian of the full vector (width = grid
      spacing), so a feature codes a *conjunction* of dimensions (a 2-D place field, like
      the 11 x 11 place cells of Fremaux, Sprekeler & Gerstner 2013), where ``"gaussian"``
      codes each dimension separately.
    * ``"onehot"``: Discrete observations, one feature per state.
    * ``"scaled"``: the observation scaled to [0, 1] plus a constant 1 feature.
    * ``"scaled_no_bias"``: the same without the constant feature, so no synapse is
      shared by every observation and a blank (all-zero) observation drives nothing:
      cue-specific learning on one-hot cues (DistalReward-v0), where a shared bias
      would learn "always give the rewarded response" for every cue.
    * ``"constant"``: one feature that is always 1 (a context-free learner: the
      observation is read and ignored, e.g. a bandit learned by action values alone).
    """

    def __init__(self, observation_space: gym.Space, kind: str, fourier_order: int = 2,
                 gaussian_per_dim: int = 10, low=None, high=None, unbounded_range: float = 3.0,
                 place_cells_per_side: int = 11):
        if kind not in ENCODERS:
            raise ValueError(f"unknown encoder {kind!r}; known: {list(ENCODERS)}")
        self.kind = kind
        self.discrete_n = None
        if isinstance(observation_space, spaces.Discrete):
            if kind != "onehot":
                raise ValueError(f"Discrete observations need encoder='onehot', got {kind!r}")
            self.discrete_n = int(observation_space.n)
            self.start = int(observation_space.start)
            self.n_features = self.discrete_n
            return
        if not isinstance(observation_space, spaces.Box):
            raise ValueError("observations must be a gymnasium Box or Discrete space, got "
                             f"{type(observation_space).__name__}")
        if kind == "onehot":
            raise ValueError("encoder='onehot' needs a Discrete observation space")
        if kind == "constant":
            self.n_features = 1
            return
        d = int(np.prod(observation_space.shape))
        lo = np.asarray(observation_space.low, dtype=np.float64).reshape(-1)
        hi = np.asarray(observation_space.high, dtype=np.float64).reshape(-1)
        lo = np.where(np.isfinite(lo), lo, -unbounded_range)
        hi = np.where(np.isfinite(hi), hi, unbounded_range)
        for name, bound in (("observation_low", low), ("observation_high", high)):
            if bound is not None and np.size(bound) not in (1, d):
                raise ValueError(f"{name} needs 1 or {d} values (the observation's size), got "
                                 f"{np.size(bound)}")
        if low is not None:
            lo = np.broadcast_to(np.asarray(low, dtype=np.float64), (d,)).copy()
        if high is not None:
            hi = np.broadcast_to(np.asarray(high, dtype=np.float64), (d,)).copy()
        if np.any(hi <= lo):
            raise ValueError(f"observation range: every high must exceed its low, got {lo}..{hi}")
        self.low, self.high = lo, hi
        if kind == "fourier":
            if not 0 <= fourier_order <= 10 or (fourier_order + 1) ** d > 20_000:
                raise ValueError(f"fourier_order={fourier_order} with {d} dimensions gives too "
                                 "many features (limit 20,000)")
            self.coefficients = np.array(list(itertools.product(range(fourier_order + 1),
                                                                repeat=d)), dtype=np.float64)
            self.n_features = self.coefficients.shape[0]
        elif kind == "gaussian":
            if gaussian_per_dim < 2:
                raise ValueError(f"gaussian_per_dim must be >= 2, got {gaussian_per_dim}")
            self.centres = np.linspace(0.0, 1.0, gaussian_per_dim)
            self.width = 1.0 / (gaussian_per_dim - 1)
            self.n_features = d * gaussian_per_dim
        elif kind == "place":
            if place_cells_per_side < 2 or place_cells_per_side ** d > 20_000:
                raise ValueError(f"place_cells_per_side={place_cells_per_side} with {d} "
                                 "dimensions: need >= 2 per side and <= 20,000 cells")
            side = np.linspace(0.0, 1.0, place_cells_per_side)
            self.place_centres = np.array(list(itertools.product(side, repeat=d)))
            self.width = 1.0 / (place_cells_per_side - 1)
            self.n_features = self.place_centres.shape[0]
        else:
            self.n_features = d if kind == "scaled_no_bias" else d + 1

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        """Batched observations ``(B, *obs_shape)`` (or ``(B,)`` ints) -> ``(B, n_features)``."""
        if self.discrete_n is not None:
            idx = np.asarray(observations).astype(np.int64).reshape(-1) - self.start
            out = np.zeros((idx.size, self.discrete_n))
            out[np.arange(idx.size), idx] = 1.0
            return out
        if self.kind == "constant":
            return np.ones((len(observations), 1))
        x = np.asarray(observations, dtype=np.float64).reshape(len(observations), -1)
        if self.kind == "fourier" and len(x) > 1:
            # a batch (a vector env's population) in one numba pass; one observation keeps
            # numpy's product, whose one-row BLAS path sums in another order: so both give
            # bitwise the features they gave before (checked for 1-16 rows)
            features = np.empty((len(x), self.n_features))
            _fourier_features(x, self.low, self.high - self.low, self.coefficients, features)
            return features
        x = np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        if self.kind == "fourier":
            return 0.5 * (1.0 + np.cos(np.pi * x @ self.coefficients.T))
        if self.kind == "gaussian":
            z = (x[:, :, None] - self.centres[None, None, :]) / self.width
            return np.exp(-0.5 * z * z).reshape(len(x), -1)
        if self.kind == "place":
            z = (x[:, None, :] - self.place_centres[None, :, :]) / self.width
            return np.exp(-0.5 * np.sum(z * z, axis=2))
        if self.kind == "scaled_no_bias":
            return x
        return np.concatenate([x, np.ones((len(x), 1))], axis=1)


@numba.njit(cache=True, nogil=True)
def _fourier_features(x, low, span, coefficients, out):
    """The Fourier basis of :class:`FeatureEncoder` in one pass, ``out`` (B, n_features):
    ``x <- clip((x - low) / span, 0, 1)``, ``out[b, c] = 0.5 * (1 + cos(sum_k (pi x_k)
    coefficient_ck))`` (the sum in k order, as numpy's product of two or more rows computes
    it: bitwise the same features, checked on 2 M values; numpy took ten calls, ~15-50 us
    of a vector step, measured). NaN observations stay NaN, as with np.clip."""
    n_dims = x.shape[1]
    px = np.empty(n_dims)
    for b in range(x.shape[0]):
        for k in range(n_dims):
            v = (x[b, k] - low[k]) / span[k]
            if v < 0.0:
                v = 0.0
            if v > 1.0:
                v = 1.0
            px[k] = np.pi * v
        for c in range(coefficients.shape[0]):
            angle = 0.0
            for k in range(n_dims):
                angle += px[k] * coefficients[c, k]
            out[b, c] = 0.5 * (1.0 + np.cos(angle))


def make_encoder(observation_space: gym.Space, params: "AgentParams") -> FeatureEncoder:
    kind = params.encoder
    if kind == "auto":
        kind = "onehot" if isinstance(observation_space, spaces.Discrete) else "fourier"
    return FeatureEncoder(observation_space, kind, params.fourier_order, params.gaussian_per_dim,
                          params.observation_low, params.observation_high,
                          params.unbounded_range, params.place_cells_per_side)


# ----------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class AgentParams:
    """Parameters shared by the spiking agent and its twin (units in each docstring line).

    Per-task defaults come from ``agents/hyperparams/<kind>.yaml``.
    """

    encoder: str = "auto"                 #: "auto" (fourier for Box, onehot for Discrete), "fourier", "gaussian", "place", "onehot", "scaled"
    fourier_order: int = 2                #: highest Fourier coefficient per dimension
    gaussian_per_dim: int = 10            #: receptive fields per dimension
    place_cells_per_side: int = 11        #: encoder "place": place cells per side of the grid (per_side^d cells)
    observation_low: tuple | None = None  #: encoder range, observation units (None: the space's bounds)
    observation_high: tuple | None = None
    unbounded_range: float = 3.0          #: range used for infinite bounds, observation units
    gamma: float = 0.98                   #: discount per env step
    trace_lambda: float = 0.5             #: lambda of the synaptic trace z (rstdp: its decay per step)
    eligibility_rise_ms: float = 0.0      #: rise time constant of the trace z, ms of task time (0: no rise, z jumps at the pairing; > 0: the two-stage cascade of the module docstring, "Eligibility time course"); >= 0
    reward_scale: float = 0.02            #: reward multiplier so discounted returns fit the readout range
    critic_lr: float = 0.01               #: learning rate of critic synapses (per unit of signal x trace)
    actor_lr: float = 0.01                #: learning rate of actor / action-value / rstdp synapses
    value_bias: float = 0.0               #: V or Q = value_bias + value_scale * readout
    value_scale: float = 1.0
    logit_scale: float = 1.0              #: logits = logit_scale * readout (AC, rstdp) or * Q (action_value)
    reward_baseline_rate: float = 0.01    #: rstdp: running-average rate of the reward baseline, per step
    w_init_max: float = 0.0               #: initial weights uniform in [w_init_min, w_init_max]
    w_init_min: float = 0.0
    w_min: float = -10.0                  #: weight bounds (hard clip; see soft_bounds)
    w_max: float = 10.0
    soft_bounds: bool = False             #: scale potentiation by (w_max - w) and depression by (w - w_min), relative to the range (multiplicative bounds: keeps weight distributions from drifting apart)
    critic_w_max: float | None = None     #: actor_critic: upper bound of the critic's synapses (weight units, as w_max; None: w_max), in (w_min, w_max] and >= w_init_max. A critic rate is a value estimate: with the bound at w_max (10) CartPole's critic weights overshot and the value collapsed (BENCHMARKS.md, CartPole-v1)
    dopamine: str = "td"                  #: "td" (the architecture's error), "shuffled" (negative control: errors permuted in time) or "off" (no plasticity)
    norepinephrine: bool = False          #: phasic NE (unexpected surprise) raises the learning rate
    ne_gain: float = 2.0                  #: NE learning-rate gain per unit of NE level (saturating)
    ne_drive: str = "surprise"            #: what drives phasic NE: "surprise" (the task's unexpected surprise, info["surprise"] - info["uncertainty"]) or "change_point" (a CUSUM of the agent's own negative prediction errors on its favourite action, agents.neuromodulators.ChangePointNE; action_value only); a burst pulls the action values toward their mean
    ne_change_drift: float = 0.2          #: change_point: evidence drift, reward units per trial (> 0)
    ne_change_threshold: float = 1.0      #: change_point: burst threshold of the evidence, reward units (> 0)
    ne_reset_fraction: float = 0.5        #: change_point: fraction of the action values' spread removed by a burst, in [0, 1]
    tonic_norepinephrine: bool = False    #: tonic NE (utility drop) raises the action temperature
    acetylcholine: bool = False           #: ACh (novelty, uncertainty) raises the learning rate
    ach_gain: float = 1.0                 #: ACh learning-rate gain per unit of ACh level (saturating)
    population_lr_exponent: float = 1.0   #: vector env of n sub-envs: the n copies' changes are summed with learning rates x n^-exponent (0: each transition counts as in a single env; 1: the mean). Twin, CartPole, 8 envs: 1.0 solved 5/5 seeds (median 1,000 steps), 0.5 and 0.25 0/5 (measured)
    n_action_directions: int = 24         #: Box actions: actor units N, each with a preferred direction (see preferred_directions; D = 1: N even, D = 2: N >= 3, D >= 3: N a multiple of 2 D; 24 suits D = 1, 2, 3, 4, 6). Spiking: each unit is a group of n_per_action LIF neurons
    action_noise: float = 0.5             #: Box actions: std sigma of the Gaussian exploration, in units of the action's half-range (= action units for a Box(-1, 1)); > 0
    action_scale: float = 1.0             #: Box actions: mean action mu = action_scale * (D / N) * sum_k readout_k u_k, in half-ranges per readout unit; > 0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            # Type first: a string or None would otherwise fail later in a comparison or in
            # numpy without the parameter's name, and a truthy string would switch a flag on.
            kind = type(f.default)
            if kind is bool and not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"parameter {f.name} must be True or False, got {value!r}")
            if kind in (int, float) and (isinstance(value, (bool, np.bool_)) or not isinstance(
                    value, (int, np.integer) if kind is int else (int, float, np.integer,
                                                                   np.floating))):
                raise ValueError(f"parameter {f.name} must be "
                                 f"{'an int' if kind is int else 'a number'}, got {value!r}")
            if isinstance(value, (float, np.floating)) and not math.isfinite(value):
                raise ValueError(f"parameter {f.name} must be finite, got {value!r}")
        if self.unbounded_range <= 0:
            raise ValueError(f"unbounded_range must be > 0, got {self.unbounded_range}")
        for name in ("observation_low", "observation_high"):
            bound = getattr(self, name)
            if bound is not None and not (isinstance(bound, (tuple, list)) and bound and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                    for v in bound)):
                raise ValueError(f"{name} must be None or a sequence of finite numbers, got "
                                 f"{bound!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {self.gamma}")
        if not 0.0 <= self.trace_lambda <= 1.0:
            raise ValueError(f"trace_lambda must lie in [0, 1], got {self.trace_lambda}")
        if self.eligibility_rise_ms < 0:
            raise ValueError(f"eligibility_rise_ms must be >= 0 (0: no rise), got "
                             f"{self.eligibility_rise_ms}")
        if self.dopamine not in ("td", "shuffled", "off"):
            raise ValueError(f"dopamine must be 'td', 'shuffled' or 'off', got {self.dopamine!r}")
        if not 0.0 <= self.population_lr_exponent <= 1.0:
            raise ValueError(f"population_lr_exponent must lie in [0, 1], got "
                             f"{self.population_lr_exponent}")
        for name in ("critic_lr", "actor_lr", "reward_baseline_rate", "ne_gain", "ach_gain"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.ne_drive not in NE_DRIVES:
            raise ValueError(f"ne_drive must be one of {list(NE_DRIVES)}, got {self.ne_drive!r}")
        for name in ("ne_change_drift", "ne_change_threshold"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0.0 <= self.ne_reset_fraction <= 1.0:
            raise ValueError(f"ne_reset_fraction must lie in [0, 1], got {self.ne_reset_fraction}")
        for name in ("n_action_directions", "action_noise", "action_scale"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.w_min <= self.w_init_min <= self.w_init_max <= self.w_max:
            raise ValueError("need w_min <= w_init_min <= w_init_max <= w_max, got "
                             f"{self.w_min}, {self.w_init_min}, {self.w_init_max}, {self.w_max}")
        if self.critic_w_max is not None:
            if isinstance(self.critic_w_max, (bool, np.bool_)) or not isinstance(
                    self.critic_w_max, (int, float, np.integer, np.floating)) or not math.isfinite(
                    self.critic_w_max):
                raise ValueError(f"parameter critic_w_max must be None or a finite number, got "
                                 f"{self.critic_w_max!r}")
            if not self.w_init_max <= self.critic_w_max <= self.w_max or not (
                    self.critic_w_max > self.w_min):
                raise ValueError(f"critic_w_max must lie in [w_init_max, w_max] and exceed "
                                 f"w_min, got critic_w_max={self.critic_w_max} (w_min "
                                 f"{self.w_min}, w_init_max {self.w_init_max}, w_max {self.w_max})")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "AgentParams":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown} for {cls.__name__}; known: "
                             f"{sorted(known)}")
        values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items()}
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(self).items()}


# ----------------------------------------------------------------------------- modulators
class Neuromodulation:
    """The agent's DA / ACh / NE, run by :class:`agents.neuromodulators.NeuromodulatorSystem`.

    Once per env step (``dt_ms`` = the task's ms per step) the system is stepped with the
    agent's own signals, and the agent reads three effects, each switchable for ablations:

    * DA (``dopamine``): the third factor is the signed reward prediction error computed by
      the architecture (``dopamine_third_factor="signed_rpe"``: a concentration floored at 0
      could not express negative errors). ``"shuffled"`` delivers a random earlier error of
      the agent instead (same distribution, no timing: negative control); ``"off"``
      removes plasticity.
    * NE (``norepinephrine``): phasic NE is driven by the *unexpected* part of the task's
      surprise, ``max(0, info["surprise"] - info["uncertainty"])`` (the observer's
      expected surprise is its uncertainty; Yu & Dayan 2005), and raises the learning rate
      (``NeuromodulatorEffects.learning_rate_scale``: values are stale after a change;
      Behrens et al. 2007). With ``ne_drive="change_point"`` phasic NE is instead a burst
      of :class:`agents.neuromodulators.ChangePointNE` (a CUSUM of the agent's own negative
      prediction errors on its favourite action; Yu & Dayan 2005, Bouret & Sara 2005,
      Nassar et al. 2010): ``value_reset`` is then the fraction by which the agent pulls its
      action values toward their mean on this step (0 without a burst), and the burst
      (impulse 1) drives the NE concentration. Tonic NE (``tonic_norepinephrine``), driven by a drop of
      recent utility, raises the action temperature (Aston-Jones & Cohen 2005).
    * ACh (``acetylcholine``): driven by ``info["novelty"]`` and ``info["uncertainty"]``,
      raises the learning rate of the step (encoding mode).
    """

    def __init__(self, params: AgentParams, rng: np.random.Generator, dt_ms: float):
        from agents.neuromodulators import NeuromodulatorEffects, NeuromodulatorSystem

        self.params = params
        self.rng = rng
        self.dt_ms = float(dt_ms)
        self.effects = NeuromodulatorEffects(
            ach_input_gain=False, ach_cue_discount=False, ach_plasticity=params.acetylcholine,
            ach_learning_rate_per_unit=params.ach_gain,
            ne_learning_rate=params.norepinephrine, ne_learning_rate_per_unit=params.ne_gain,
            ne_window=False, tonic_ne_temperature=params.tonic_norepinephrine,
            serotonin_conversion=False, dopamine_autoinhibition=False)
        self.system = NeuromodulatorSystem(dt_ms=self.dt_ms, effects=self.effects,
                                           dopamine_third_factor="signed_rpe")
        self._shuffle_buffer: list[float] = []
        self.change_point = None
        if params.norepinephrine and params.ne_drive == "change_point":
            from agents.neuromodulators import ChangePointNE
            self.change_point = ChangePointNE(params.ne_change_drift, params.ne_change_threshold,
                                              params.ne_reset_fraction)
        self.value_reset = 0.0  # change_point: pull of the action values this step

    def step(self, error: float, reward: float, info: dict,
             chose_favourite: bool | None = None) -> tuple[float, float]:
        """Step the modulators with this env step's signals; -> (DA factor, lr gain).
        ``chose_favourite`` (change-point NE only): the chosen action was the one valued
        highest."""
        from agents.neuromodulators import ACH, NE

        surprise = float(info.get(SURPRISE, 0.0))
        uncertainty = float(info.get(UNCERTAINTY, 0.0))
        ne_signal = max(0.0, surprise - uncertainty)
        if self.change_point is not None:
            if chose_favourite is None:
                raise ValueError("ne_drive='change_point' needs chose_favourite (the "
                                 "action_value architecture passes it)")
            burst = self.change_point.step(error, bool(chose_favourite))
            ne_signal = 1.0 if burst else 0.0
            self.value_reset = self.change_point.reset_fraction if burst else 0.0
        self.system.step(rpe=error, reward=reward, novelty=float(info.get(NOVELTY, 0.0)),
                         uncertainty=uncertainty, surprise=ne_signal)
        above = self.system.above_baseline()
        gain = float(self.effects.learning_rate_scale(ach=above[ACH], ne=above[NE]))
        return self._dopamine(self.system.dopamine_factor()), gain

    def temperature(self) -> float:
        """Action-selection temperature multiplier (tonic NE; 1 when switched off)."""
        return self.system.action_temperature(1.0)

    def _dopamine(self, error: float) -> float:
        mode = self.params.dopamine
        if mode == "off":
            return 0.0
        if mode == "shuffled":
            self._shuffle_buffer.append(error)
            if len(self._shuffle_buffer) > 1000:
                self._shuffle_buffer.pop(0)
            return float(self._shuffle_buffer[self.rng.integers(len(self._shuffle_buffer))])
        return error

    def reset(self) -> None:
        self.system.reset()
        if self.change_point is not None:
            self.change_point.reset()
        self.value_reset = 0.0


# ----------------------------------------------------------------------------- spaces
def _space_to_json(space: gym.Space) -> dict:
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "shape": list(space.shape),
                "low": np.asarray(space.low, dtype=np.float64).reshape(-1).tolist(),
                "high": np.asarray(space.high, dtype=np.float64).reshape(-1).tolist(),
                "dtype": str(space.dtype)}
    raise ValueError(f"unsupported space {space}")


def _space_from_json(d: dict) -> gym.Space:
    if d.get("type") == "Discrete":
        return spaces.Discrete(int(d["n"]), start=int(d.get("start", 0)))
    if d.get("type") == "Box":
        shape = tuple(d["shape"])
        dtype = np.dtype(d["dtype"])
        return spaces.Box(np.array(d["low"], dtype=dtype).reshape(shape),
                          np.array(d["high"], dtype=dtype).reshape(shape), shape=shape, dtype=dtype)
    raise ValueError(f"checkpoint: unsupported space description {d!r}")


def _spaces_match(a: gym.Space, b: gym.Space) -> bool:
    return json.dumps(_space_to_json(a)) == json.dumps(_space_to_json(b))


def env_id_of(env) -> str | None:
    spec = getattr(env, "spec", None)
    if spec is None and hasattr(env, "envs"):
        spec = getattr(env.envs[0], "spec", None)
    return getattr(spec, "id", None)


def _is_vector_env(env) -> bool:
    return isinstance(env, gym.vector.VectorEnv)


def prepare_env(env):
    """A single Gymnasium env with the signal keys in ``info`` (wrapping it with
    :class:`~neuromod_gym.signals.NeuromodulatorySignals` when it lacks them), or a
    Gymnasium vector env, returned as it is (its sub-envs cannot be wrapped from outside:
    build it with ``gym.make_vec(..., wrappers=[NeuromodulatorySignals])`` when the agent's
    ACh / NE need the signal keys; :meth:`ThreeFactorAgent.learn` checks). A vector env
    must use Gymnasium's default ``autoreset_mode`` NEXT_STEP (the step after a sub-env's
    episode end resets it)."""
    from neuromod_gym.signals import NeuromodulatorySignals

    if isinstance(env, str):
        env = gym.make(env)
    if _is_vector_env(env):
        mode = env.metadata.get("autoreset_mode")
        if mode is not None and getattr(mode, "value", mode) not in ("NextStep", "next_step"):
            raise ValueError(f"vector env autoreset_mode must be NEXT_STEP (Gymnasium's "
                             f"default), got {mode}")
        if not isinstance(env.single_action_space, (spaces.Discrete, spaces.Box)):
            raise ValueError("actions must be a gymnasium Discrete or Box space, got "
                             f"{env.single_action_space}")
        return env
    if hasattr(env, "num_envs"):
        raise ValueError("vector envs must be Gymnasium vector envs (gymnasium.vector."
                         "SyncVectorEnv / AsyncVectorEnv / gym.make_vec), got "
                         f"{type(env).__name__}")
    if not isinstance(env, gym.Env):
        raise ValueError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    if not getattr(env.unwrapped, "emits_signal_keys", False) and not _has_wrapper(
            env, NeuromodulatorySignals):
        if not _is_neuromod_task(env):
            env = NeuromodulatorySignals(env)
    return env


def _single_spaces(env) -> tuple[gym.Space, gym.Space]:
    """(observation space, action space) of one env, or of one sub-env of a vector env."""
    if _is_vector_env(env):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


def _has_wrapper(env, cls) -> bool:
    while isinstance(env, gym.Wrapper):
        if isinstance(env, cls):
            return True
        env = env.env
    return False


def _is_neuromod_task(env) -> bool:
    try:
        from neuromod_gym.envs.base import NeuromodTask
    except ImportError:  # pragma: no cover
        return False
    return isinstance(env.unwrapped, NeuromodTask)


# ----------------------------------------------------------------------------- the agent
@dataclass
class _VectorEpisodes:
    """Per-copy state of training on a vector env (one copy of the network per sub-env),
    kept between :meth:`ThreeFactorAgent.learn` calls."""

    traces: np.ndarray            # (B, n_out, n_in) synaptic trace z of each copy
    returns: np.ndarray           # (B,) running episode return
    lengths: np.ndarray           # (B,) running episode length
    resetting: np.ndarray         # (B,) bool: the sub-env's next step is its reset step
    reward_baselines: np.ndarray  # (B,) rstdp: running reward average of each copy
    modulation: list              # B Neuromodulation objects (none when unused: _population_modulation)
    readouts: np.ndarray | None = None       # (B, n_groups) of the current window
    eligibility: np.ndarray | None = None    # (B, n_out, n_in) of the current window
    values: np.ndarray | None = None         # (B,)
    q: np.ndarray | None = None              # (B, n_actions) (action_value)
    probabilities: np.ndarray | None = None  # (B, n_actions)
    rise_traces: np.ndarray | None = None    # (B, n_out, n_in) first stage z1 (eligibility_rise_ms > 0)


@dataclass
class _Step:
    """What the agent computed for one observation (one window)."""

    readout: np.ndarray        # (n_groups,)
    eligibility: np.ndarray    # (n_out, n_in)
    value: float               # V(s) (actor_critic) or max_a Q(s, a) (action_value)
    values: np.ndarray | None  # Q(s, .) (action_value)
    probabilities: np.ndarray  # policy: action probabilities (Box actions: the mean mu, normalised)
    action: int | np.ndarray = -1  # Box actions: the normalised sample x (D,)


class ThreeFactorAgent:
    """Base of :class:`~agents.spiking_agent.SpikingAgent` and
    :class:`~agents.twin.RateTwinAgent`: stable-baselines3-like surface, one RL core.

    Subclasses provide the substrate (see the module docstring) by implementing
    ``_build_substrate``, ``_learner_forward``, ``_learner_reset``, ``_push_weights``,
    ``_predict_readout`` and ``_reset_inference``.
    """

    agent_kind: ClassVar[str] = ""
    params_class: ClassVar[type[AgentParams]] = AgentParams
    default_rule: ClassVar[dict[str, str]] = {}
    rules: ClassVar[tuple[str, ...]] = ()

    def __init__(self, env, architecture: str | None = None, rule: str | None = None,
                 seed: int = 0, verbose: int = 0, *, _spaces: tuple | None = None,
                 _env_id: str | None = None, task_dt_ms: float | None = None,
                 **params: Any):
        if _spaces is None:
            self.env = prepare_env(env)
            observation_space, action_space = _single_spaces(self.env)
            env_id = _env_id or env_id_of(self.env)
        else:
            self.env = None
            observation_space, action_space = _spaces
            env_id = _env_id
        if not isinstance(action_space, (spaces.Discrete, spaces.Box)):
            raise ValueError(f"actions must be a gymnasium Discrete or Box space, got "
                             f"{action_space}")
        if not isinstance(observation_space, (spaces.Box, spaces.Discrete)):
            raise ValueError("observations must be a gymnasium Box or Discrete space, got "
                             f"{type(observation_space).__name__}")
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {seed!r}")
        self.observation_space = observation_space
        self.action_space = action_space
        #: Box actions: a population-vector actor (see the module docstring)
        self.continuous_actions = isinstance(action_space, spaces.Box)
        #: actor output groups: one per Discrete action; Box: n_action_directions (set below)
        self.n_actions = 0 if self.continuous_actions else int(action_space.n)
        self.env_id = env_id
        self.seed = int(seed)
        self.verbose = verbose
        hyper = load_hyperparams(self.agent_kind, env_id)
        hyper_arch = hyper.pop("architecture", "actor_critic")
        hyper_rule = hyper.pop("rule", None)
        self.architecture = architecture or hyper_arch
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"unknown architecture {self.architecture!r}; known: "
                             f"{list(ARCHITECTURES)}")
        arch_specific = hyper.pop(self.architecture, {}) or {}
        for name in ARCHITECTURES:
            hyper.pop(name, None)
        hyper.update(arch_specific)
        hyper_rule = hyper.pop("rule", hyper_rule)
        hyper.update(params)
        self.params = self.params_class.from_dict(hyper)
        self.rule = rule or hyper_rule or self.default_rule.get(self.architecture, "")
        if self.rules and self.rule not in self.rules:
            raise ValueError(f"unknown rule {self.rule!r}; known: {list(self.rules)}")
        if self.continuous_actions:
            self._setup_box_actions(action_space)
        if (self.params.norepinephrine and self.params.ne_drive == "change_point"
                and self.architecture != "action_value"):
            raise ValueError(f"ne_drive='change_point' resets action values: it needs "
                             f"architecture='action_value', got {self.architecture!r}")
        self.encoder = make_encoder(observation_space, self.params)
        self.n_inputs = self.encoder.n_features
        self.has_critic = self.architecture == "actor_critic"
        self.n_groups = self.n_actions + (1 if self.has_critic else 0)
        self._rng = np.random.default_rng([self.seed, 1])
        self.task_dt_ms = _task_dt_ms(self.env) if self.env is not None else float(
            task_dt_ms or 20.0)
        self.modulation = Neuromodulation(self.params, np.random.default_rng([self.seed, 2]),
                                          self.task_dt_ms)
        self.num_timesteps = 0
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.reward_baseline = 0.0
        self._build_substrate(np.random.default_rng([self.seed, 0]))
        self._predict_envs = 0
        self._episode: tuple | None = None  # (step, trace, return, length) between learn calls
        self._vector: _VectorEpisodes | None = None  # the same for a vector env

    # ------------------------------------------------------------------ substrate hooks
    unit_group: np.ndarray   # (n_out,) group index of each output unit
    weights: np.ndarray      # (n_out, n_in)

    def _build_substrate(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _learner_forward(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One window of the learner on ``features`` (n_in,) -> (readout, eligibility)."""
        raise NotImplementedError

    def _learner_reset(self) -> None:
        raise NotImplementedError

    def _push_weights(self) -> None:
        """Make the substrate use ``self.weights`` (after a change)."""

    def _population_build(self, n: int) -> None:
        """(Re)build ``n`` learner copies for a vector env, all at their episode start."""
        raise NotImplementedError

    def _population_forward(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One window of every copy, ``features`` (n, n_in) -> (readouts (n, n_groups),
        eligibility (n, n_out, n_in)); the arrays may be reused by the next call."""
        raise NotImplementedError

    def _population_reset(self, copies: np.ndarray) -> None:
        """Neural state of the copies selected by the boolean mask back to rest."""
        raise NotImplementedError

    def _population_lr_scale(self, n: int) -> float:
        """Factor on every learning rate when ``n`` copies' changes are summed."""
        return float(n) ** -self.params.population_lr_exponent

    def _predict_readout(self, features: np.ndarray, episode_start: np.ndarray,
                         full_reset: bool) -> np.ndarray:
        """Readouts ``(B, n_groups)`` for a batch of envs, frozen weights; ``episode_start``
        (B,) resets those envs' state, ``full_reset`` rebuilds all inference state."""
        raise NotImplementedError

    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _load_extra_state(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    # ------------------------------------------------------------------ readout -> policy
    def _policy(self, readout: np.ndarray) -> tuple[float, np.ndarray | None, np.ndarray]:
        """(value, Q values or None, action probabilities) from a readout (n_groups,)."""
        p = self.params
        if self.architecture == "actor_critic":
            value = p.value_bias + p.value_scale * float(readout[0])
            if self.continuous_actions:  # Box: the mean action instead of probabilities
                return value, None, self._box_mean(readout[1:])
            logits = p.logit_scale * readout[1:]
            q = None
        elif self.architecture == "action_value":
            q = p.value_bias + p.value_scale * readout
            value = float(q.max())
            logits = p.logit_scale * q
        else:
            value, q = 0.0, None
            logits = p.logit_scale * readout
        return value, q, _softmax(logits)

    def _action_readout(self, readout: np.ndarray) -> np.ndarray:
        return readout[1:] if self.has_critic else readout

    # ------------------------------------------------------------------ Box actions
    def _setup_box_actions(self, action_space: spaces.Box) -> None:
        """Check a Box action space and build the population-vector actor (module
        docstring, "Box actions"); ValueError for what it does not support."""
        if self.architecture != "actor_critic":
            raise ValueError(f"Box actions need architecture='actor_critic' (a population-"
                             f"vector actor with a critic), got {self.architecture!r}")
        if len(action_space.shape) != 1:
            raise ValueError(f"Box actions must have shape (D,), got shape {action_space.shape}")
        low = np.asarray(action_space.low, dtype=np.float64)
        high = np.asarray(action_space.high, dtype=np.float64)
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(high > low)):
            raise ValueError(f"Box actions need finite bounds with every high > its low, got "
                             f"low {low}, high {high}")
        self._box_low, self._box_high = low, high
        self._box_centre = (low + high) / 2.0
        self._box_half_range = (high - low) / 2.0
        self._preferred = preferred_directions(action_space.shape[0],
                                               self.params.n_action_directions)
        self.n_actions = self._preferred.shape[0]
        # mu = action_scale * (D / N) * sum_k r_k u_k: one matrix (N, D)
        self._box_readout_to_mean = (self.params.action_scale * action_space.shape[0]
                                     / self.n_actions) * self._preferred

    def _box_mean(self, actor_readout: np.ndarray) -> np.ndarray:
        """Mean action mu (normalised) from the actor units' readouts, (..., N) -> (..., D)."""
        return actor_readout @ self._box_readout_to_mean

    def _box_factor(self, samples: np.ndarray, means: np.ndarray) -> np.ndarray:
        """Eligibility factor of the actor units, ((x - mu) . u_k) / sigma^2:
        (..., D), (..., D) -> (..., N)."""
        return (samples - means) @ self._preferred.T / self.params.action_noise ** 2

    def _box_to_env(self, samples: np.ndarray) -> np.ndarray:
        """Normalised actions (..., D) -> the env's units, clipped to the bounds, in the
        space's dtype."""
        actions = np.clip(self._box_centre + self._box_half_range * samples, self._box_low,
                          self._box_high)
        return actions.astype(self.action_space.dtype)

    def _observe(self, observation) -> _Step:
        features = self.encoder(self._as_batch(observation)[0])[0]
        readout, elig = self._learner_forward(features)
        value, q, probs = self._policy(readout)
        return _Step(readout, elig, value, q, probs)

    # ------------------------------------------------------------------ learning
    def _unit_factor(self, step: _Step) -> np.ndarray:
        """Per-output-unit factor of the eligibility, see the module docstring."""
        n_out = self.unit_group.size
        if self.architecture == "actor_critic" and self.continuous_actions:
            per_group = np.empty(self.n_groups)
            per_group[0] = 1.0
            per_group[1:] = self._box_factor(step.action, step.probabilities)
        elif self.architecture == "actor_critic":
            per_group = np.empty(self.n_groups)
            per_group[0] = 1.0
            per_group[1:] = -step.probabilities
            per_group[1 + step.action] += 1.0
        elif self.architecture == "action_value":
            per_group = np.zeros(self.n_groups)
            per_group[step.action] = 1.0
        else:
            return np.ones(n_out)
        return per_group[self.unit_group]

    def _unit_lr(self) -> np.ndarray:
        lr = np.full(self.unit_group.size, self.params.actor_lr)
        if self.has_critic:
            lr[self.unit_group == 0] = self.params.critic_lr
        return lr

    def _apply(self, dw: np.ndarray) -> None:
        """Add the weight change ``dw`` within the bounds (soft or hard)."""
        p = self.params
        if self.has_critic and p.critic_w_max is not None:
            self._apply_critic_bounded(dw)
            return
        if p.soft_bounds:
            span = p.w_max - p.w_min
            dw = np.where(dw > 0, dw * (p.w_max - self.weights), dw * (self.weights - p.w_min))
            dw /= span
        # add and clip in one pass (numpy: two passes over the weights)
        _add_clipped(self.weights, dw, p.w_min, p.w_max)
        self._push_weights()

    def _apply_critic_bounded(self, dw: np.ndarray) -> None:
        """:meth:`_apply` with the critic's own upper bound ``critic_w_max``: the bound
        becomes one per output unit (critic rows: ``critic_w_max``, actor rows: ``w_max``;
        soft bounds, when on, scale each row by its own range)."""
        p = self.params
        w_max = np.where((self.unit_group == 0)[:, None], p.critic_w_max, p.w_max)
        if p.soft_bounds:
            dw = np.where(dw > 0, dw * (w_max - self.weights), dw * (self.weights - p.w_min))
            dw /= w_max - p.w_min
        self.weights += dw
        np.clip(self.weights, p.w_min, w_max, out=self.weights)
        self._push_weights()

    def _pull_action_values_together(self, fraction: float) -> None:
        """Change-point NE (``ne_drive="change_point"``): move each action group's mean
        weight vector the ``fraction`` of the way to the mean over groups (each unit keeps
        its offset from its group's mean), within the weight bounds. For the twin (one
        linear unit per action) this is exactly ``Q_a <- Q_a + fraction (mean_b Q_b - Q_a)``;
        for the spiking groups it equalises their drive, hence their rates."""
        groups = self.unit_group
        means = np.stack([self.weights[groups == g].mean(axis=0) for g in range(self.n_groups)])
        self.weights += fraction * (means.mean(axis=0) - means)[groups]
        np.clip(self.weights, self.params.w_min, self.params.w_max, out=self.weights)
        self._push_weights()

    def _trace_rise(self) -> float:
        """Per-step retention a1 of the trace's first stage (0.0: no rise; module
        docstring, "Eligibility time course")."""
        rise_ms = self.params.eligibility_rise_ms
        return math.exp(-self.task_dt_ms / rise_ms) if rise_ms > 0 else 0.0

    def learn(self, total_timesteps: int, callback: Callable | None = None,
              progress_bar: bool = False) -> "ThreeFactorAgent":
        """Train for ``total_timesteps`` env steps on the agent's env.

        ``callback``: a stable-baselines3 ``BaseCallback`` or a callable
        ``callback(locals_dict, globals_dict) -> bool``; returning False stops training.
        ``progress_bar``: show a tqdm bar of env steps.

        A Gymnasium vector env (``SyncVectorEnv``, ``AsyncVectorEnv``, ``gym.make_vec``;
        autoreset mode NEXT_STEP) trains ``num_envs`` copies of the agent's network at once
        (the substrate's population axis: one network run advances every copy): ONE shared
        weight matrix; each copy has its own neural state, synaptic trace z, TD error,
        neuromodulators and episode, and a step's weight change is the SUM of the copies'
        changes (as A2C / PPO sum over their envs), with learning rates scaled by
        ``population_lr_scale`` (see :class:`AgentParams`). ``total_timesteps`` counts
        transitions summed over sub-envs (stable-baselines3's convention; the last vector
        step may overshoot by < ``num_envs``); a sub-env's reset step (the step after its
        episode ended, whose action Gymnasium ignores) is no transition: it is not counted
        and makes no update. Callbacks are called once per vector step with
        stable-baselines3's local names (``actions``, ``new_obs``, ``rewards``, ``dones``,
        ``infos``); ``episode_returns`` / ``episode_lengths`` collect every sub-env's
        episodes in the order they end (lower sub-env index first within a step).
        """
        if self.env is None:
            raise ValueError("this agent has no env: pass one to load(path, env=...)")
        if not isinstance(total_timesteps, (int, np.integer)) or total_timesteps < 0:
            raise ValueError(f"total_timesteps must be an int >= 0, got {total_timesteps!r}")
        p = self.params
        lr_unit = self._unit_lr()
        decay = p.trace_lambda if self.architecture == "rstdp" else p.gamma * p.trace_lambda
        sb3_callback = _adapt_callback(callback, self)
        bar = None
        if progress_bar:
            from tqdm.auto import tqdm
            bar = tqdm(total=int(total_timesteps), unit="step")
        if _is_vector_env(self.env):
            self._learn_vector(int(total_timesteps), sb3_callback, bar)
            if bar is not None:
                bar.close()
            return self
        env = self.env
        if self._episode is None:  # else: continue the episode the last call left running
            first_seed = self.seed if self.num_timesteps == 0 else None
            obs, info = env.reset(seed=first_seed)
            self._learner_reset()
            self._episode = (self._observe(obs), np.zeros_like(self.weights), 0.0, 0)
            self._rise_trace = np.zeros_like(self.weights)  # z1 (eligibility_rise_ms > 0)
        rise = self._trace_rise()
        step, trace, episode_return, episode_length = self._episode
        continue_training = True
        for _ in range(int(total_timesteps)):
            if self.continuous_actions:  # Box: x = mu + sigma * eps (tonic NE: sigma hotter)
                noise = p.action_noise * (self.modulation.temperature()
                                          if p.tonic_norepinephrine else 1.0)
                step.action = step.probabilities + noise * self._rng.standard_normal(
                    step.probabilities.shape)
                env_action = self._box_to_env(step.action)
            else:
                probabilities = step.probabilities
                if p.tonic_norepinephrine:  # tonic NE: a hotter softmax while utility is low
                    probabilities = _softmax(np.log(probabilities + 1e-300)
                                             / self.modulation.temperature())
                step.action = env_action = int(self._rng.choice(self.n_actions, p=probabilities))
            _advance_traces(trace[None], self._rise_trace[None], rise, decay,
                            self._unit_factor(step)[None], step.eligibility[None])
            next_obs, reward, terminated, truncated, info = env.step(env_action)
            self.num_timesteps += 1
            episode_return += float(reward)
            episode_length += 1
            r = p.reward_scale * float(reward)
            done = terminated or truncated
            next_step = None
            if not done:
                next_step = self._observe(next_obs)
                next_value = next_step.value
            elif truncated and not terminated and self.architecture != "rstdp":
                next_value = self._observe(next_obs).value  # bootstrap; its window is discarded
            else:
                next_value = 0.0
            if self.architecture == "rstdp":
                error = r - self.reward_baseline
                self.reward_baseline += p.reward_baseline_rate * (r - self.reward_baseline)
            elif self.architecture == "action_value":
                error = r + p.gamma * next_value - float(step.values[step.action])
            else:
                error = r + p.gamma * next_value - step.value
            favourite = (step.action == int(np.argmax(step.values))
                         if self.architecture == "action_value" else None)
            dopamine, gain = self.modulation.step(error, float(reward), info, favourite)
            if self.modulation.value_reset:  # change-point NE burst (ne_drive="change_point")
                self._pull_action_values_together(self.modulation.value_reset)
            if dopamine != 0.0:
                self._apply(gain * dopamine * lr_unit[:, None] * trace)
            if bar is not None:
                bar.update(1)
            if sb3_callback is not None:
                continue_training = sb3_callback(locals(), globals())
            if done:
                self.episode_returns.append(episode_return)
                self.episode_lengths.append(episode_length)
                episode_return, episode_length = 0.0, 0
                obs, info = env.reset()
                self._learner_reset()
                trace[:] = 0.0
                self._rise_trace[:] = 0.0
                next_step = self._observe(obs)
            step = next_step
            if continue_training is False:
                break
        self._episode = (step, trace, episode_return, episode_length)
        if bar is not None:
            bar.close()
        return self

    # ------------------------------------------------------------------ vector envs
    def _policy_batch(self, readouts: np.ndarray):
        """:meth:`_policy` for a batch: readouts (B, n_groups) -> (values (B,), Q (B, n_actions)
        or None, probabilities (B, n_actions))."""
        p = self.params
        if self.architecture == "actor_critic":
            values = p.value_bias + p.value_scale * readouts[:, 0]
            if self.continuous_actions:  # Box: the mean actions (B, D) instead
                return values, None, self._box_mean(readouts[:, 1:])
            logits = p.logit_scale * readouts[:, 1:]
            q = None
        elif self.architecture == "action_value":
            q = p.value_bias + p.value_scale * readouts
            values = q.max(axis=1)
            logits = p.logit_scale * q
        else:
            values, q = np.zeros(len(readouts)), None
            logits = p.logit_scale * readouts
        return values, q, _softmax_rows(logits)

    def _unit_factor_batch(self, actions: np.ndarray, probabilities: np.ndarray,
                           active: np.ndarray | None = None) -> np.ndarray:
        """:meth:`_unit_factor` for a batch of copies: (B, n_out); with ``active`` (B,)
        bool, 0 for the inactive copies."""
        n = len(actions)
        if not self.continuous_actions and self.architecture in ("actor_critic",
                                                                 "action_value"):
            # one numba pass instead of about eight numpy calls (measured: ~15-35 us of a
            # vector step)
            factor = np.empty((n, self.unit_group.size))
            _discrete_unit_factor(actions, probabilities,
                                  np.ones(n, dtype=bool) if active is None else active,
                                  self.unit_group, self.architecture == "actor_critic", factor)
            return factor
        if self.architecture == "actor_critic":
            # Box: actions are the normalised samples (B, D), probabilities the means (B, D)
            per_group = np.empty((n, self.n_groups))
            per_group[:, 0] = 1.0
            per_group[:, 1:] = self._box_factor(actions, probabilities)
            factor = per_group[:, self.unit_group]
        else:  # rstdp: factor 1
            factor = np.ones((n, self.unit_group.size))
        if active is not None:
            factor[~active] = 0.0
        return factor

    def _box_sample_batch(self, means: np.ndarray, active: np.ndarray,
                          modulation: list) -> np.ndarray:
        """Box actions of a vector step: normalised samples x = mu + sigma * eps (B, D) for
        the active copies (tonic NE: sigma x each copy's temperature); the others get mu
        (their sub-env resets and ignores it)."""
        p = self.params
        noise = np.full((len(means), 1), p.action_noise)
        if p.tonic_norepinephrine:
            noise[:, 0] *= [m.temperature() for m in modulation]
        samples = means.copy()
        samples[active] += noise[active] * self._rng.standard_normal(
            (int(np.count_nonzero(active)), means.shape[1]))
        return samples

    def _observe_population(self, episodes: "_VectorEpisodes", observations) -> None:
        """One window of every copy on its sub-env's observation (all copies in one call)."""
        features = self.encoder(np.asarray(observations))
        episodes.readouts, episodes.eligibility = self._population_forward(features)
        episodes.values, episodes.q, episodes.probabilities = self._policy_batch(
            episodes.readouts)

    def _start_vector(self) -> "_VectorEpisodes":
        env = self.env
        n = int(env.num_envs)
        first_seed = self.seed if self.num_timesteps == 0 else None
        observations, infos = env.reset(seed=first_seed)
        p = self.params
        if p.norepinephrine and p.ne_drive == "change_point":
            raise ValueError("ne_drive='change_point' runs in a single env only (the vector "
                             "env path does not reset action values)")
        if (p.norepinephrine or p.acetylcholine) and not all(
                key in infos for key in (NOVELTY, SURPRISE, UNCERTAINTY)):
            raise ValueError("norepinephrine / acetylcholine read info['novelty'], "
                             "['surprise'], ['uncertainty'], which this vector env does not "
                             "emit: build it with gym.make_vec(..., wrappers="
                             "[NeuromodulatorySignals])")
        self._population_build(n)
        episodes = _VectorEpisodes(
            traces=np.zeros((n,) + self.weights.shape),
            returns=np.zeros(n), lengths=np.zeros(n, dtype=np.int64),
            resetting=np.zeros(n, dtype=bool), reward_baselines=np.full(n, self.reward_baseline),
            modulation=[Neuromodulation(self.params, np.random.default_rng([self.seed, 2, b]),
                                        self.task_dt_ms) for b in range(n)]
            if self._population_modulation() else [])
        self._observe_population(episodes, observations)
        return episodes

    def _population_modulation(self) -> bool:
        """True when a vector step reads the copies' Neuromodulation objects: modulator
        kinetics (NE, ACh, tonic NE) or shuffled DA. Otherwise none are built (8 of them
        cost 25-50 ms, measured: 5-10 % of a CartPole population's training to solve)."""
        p = self.params
        return (p.norepinephrine or p.acetylcholine or p.tonic_norepinephrine
                or p.dopamine == "shuffled")

    def _learn_vector(self, total_timesteps: int, sb3_callback, bar) -> None:
        """:meth:`learn` on a Gymnasium vector env (see there)."""
        p = self.params
        env = self.env
        n = int(env.num_envs)
        lr_unit = self._unit_lr() * self._population_lr_scale(n)
        decay = p.trace_lambda if self.architecture == "rstdp" else p.gamma * p.trace_lambda
        if self._vector is None or len(self._vector.returns) != n:
            self._vector = self._start_vector()
        episodes = self._vector
        traces = episodes.traces
        rise = self._trace_rise()
        if rise and episodes.rise_traces is None:
            episodes.rise_traces = np.zeros_like(traces)
        copies = np.arange(n)
        # the modulator kinetics change learning only through ACh / NE effects; without
        # them DA is the signed TD error itself and the per-copy kinetics (about 40 us per
        # copy and step, measured) are skipped
        kinetics = p.norepinephrine or p.acetylcholine or p.tonic_norepinephrine
        actions = np.zeros(n, dtype=np.int64)
        flat_traces = traces.reshape(n, -1)  # a view: the traces are contiguous
        td = self.architecture != "rstdp"  # TD error (else reward minus its baseline)
        first = self.num_timesteps
        continue_training = True
        while self.num_timesteps - first < total_timesteps:
            # copies whose sub-env ended last step: this step resets it (action ignored,
            # no transition, no update). Most vector steps have none; they skip the masking
            # (the same numbers: masks of all-True select everything).
            all_active = not episodes.resetting.any()
            active = ~episodes.resetting
            n_active = n if all_active else int(np.count_nonzero(active))
            probabilities = episodes.probabilities
            if self.continuous_actions:
                actions = self._box_sample_batch(probabilities, active, episodes.modulation)
            else:
                if p.tonic_norepinephrine:
                    temperature = np.array([m.temperature() for m in episodes.modulation])
                    probabilities = _softmax_rows(np.log(probabilities + 1e-300)
                                                  / temperature[:, None])
                _inverse_cdf_sample(probabilities, active, self._rng.random(n_active), actions)
            factor = self._unit_factor_batch(actions, probabilities,
                                             None if all_active else active)
            _advance_traces(traces, episodes.rise_traces, rise, decay, factor,
                            episodes.eligibility)
            old_values, old_q = episodes.values, episodes.q
            new_obs, rewards, terminated, truncated, infos = env.step(
                self._box_to_env(actions) if self.continuous_actions else actions)
            rewards = np.asarray(rewards, dtype=np.float64)
            self.num_timesteps += n_active
            # every copy's next window; for a sub-env that ended it ran on the final
            # observation: its value bootstraps a truncation and is 0 after a termination
            self._observe_population(episodes, new_obs)
            dones, errors = np.empty(n, dtype=bool), np.empty(n)
            finite = _vector_transitions(
                rewards, np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool),
                active, p.reward_scale, p.gamma, episodes.values,
                old_q[copies, actions] if self.architecture == "action_value" else old_values,
                episodes.reward_baselines, p.reward_baseline_rate, td, episodes.returns,
                episodes.lengths, dones, errors)
            if not finite:
                raise ValueError(f"non-finite TD error {errors} (reward {rewards})")
            if kinetics or p.dopamine == "shuffled":
                coefficients = np.zeros(n)
                for b in np.nonzero(active)[0]:
                    modulation = episodes.modulation[b]
                    if kinetics:
                        info = {key: infos[key][b] for key in (NOVELTY, SURPRISE, UNCERTAINTY)
                                if key in infos}
                        dopamine, gain = modulation.step(float(errors[b]), float(rewards[b]),
                                                         info)
                    else:
                        dopamine, gain = modulation._dopamine(float(errors[b])), 1.0
                    coefficients[b] = gain * dopamine
            elif p.dopamine == "td":
                coefficients = errors  # (+ 0.0: the same numbers as a copy into zeros)
            else:
                coefficients = np.zeros(n)
            if coefficients.any():
                # the step's weight change: the sum of the copies' changes
                # (what np.tensordot(coefficients, traces, axes=1) computes, without its
                # Python overhead: the same BLAS product)
                dw = np.dot(coefficients[None, :], flat_traces).reshape(self.weights.shape)
                dw *= lr_unit[:, None]
                self._apply(dw)
            if bar is not None:
                bar.update(n_active)
            if sb3_callback is not None:
                # stable-baselines3's names for the step's batch (callbacks read them)
                continue_training = sb3_callback(
                    {"self": self, "actions": actions, "new_obs": new_obs, "rewards": rewards,
                     "dones": dones, "infos": infos, "n_envs": n}, globals())
            if dones.any():
                ended = np.nonzero(dones)[0]
                self.episode_returns.extend(episodes.returns[ended].tolist())
                self.episode_lengths.extend(episodes.lengths[ended].tolist())
                episodes.returns[ended] = 0.0
                episodes.lengths[ended] = 0
                traces[ended] = 0.0
                if rise:
                    episodes.rise_traces[ended] = 0.0
                self._population_reset(dones)
            episodes.resetting = dones
            if continue_training is False:
                break
        self.reward_baseline = float(np.mean(episodes.reward_baselines))

    # ------------------------------------------------------------------ predict
    def _as_batch(self, observation) -> tuple[np.ndarray, bool]:
        """(batched observations, was_batched); ValueError on a wrong shape."""
        space = self.observation_space
        obs = np.asarray(observation)
        if isinstance(space, spaces.Discrete):
            if obs.ndim == 0:
                return obs.reshape(1), False
            if obs.ndim == 1:
                return obs, True
            raise ValueError(f"Discrete observations must be a scalar or a 1-D batch, got shape "
                             f"{obs.shape}")
        if obs.shape == space.shape:
            return obs[None], False
        if obs.ndim == len(space.shape) + 1 and obs.shape[1:] == space.shape:
            return obs, True
        raise ValueError(f"observation shape {obs.shape} does not match the observation space "
                         f"shape {space.shape} (or a batch of it)")

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Actions for one observation or a batch (stable-baselines3 predictor protocol).

        Args:
            observation: shape ``obs_shape`` or ``(n_envs, *obs_shape)``.
            state: ignored (the neural state of each env is kept inside the agent);
                returned as None like stable-baselines3's feed-forward policies.
            episode_start: bool per env; True resets that env's neural state before the
                observation is processed. When every env starts (or the number of envs
                changes) the inference state and its noise streams restart from scratch,
                so predictions are reproducible from an episode start.
            deterministic: True = greedy readout: the action whose group has the highest
                readout (rate / value), no sampling; False = sample from the softmax
                policy. The network's own spiking noise is part of the agent either way.
                Box actions: True = the mean action mu, False = mu + action_noise * eps;
                either way mapped into the Box and clipped to its bounds, in the space's
                dtype, shape ``(D,)`` or ``(n_envs, D)``.

        Never changes weights.
        """
        batch, batched = self._as_batch(observation)
        n = len(batch)
        if isinstance(self.observation_space, spaces.Box) and not np.all(np.isfinite(
                np.asarray(batch, dtype=np.float64))):
            raise ValueError("observations must be finite")
        starts = np.ones(n, bool) if episode_start is None and n != self._predict_envs else (
            np.zeros(n, bool) if episode_start is None else
            np.asarray(episode_start, dtype=bool).reshape(-1))
        if starts.shape != (n,):
            raise ValueError(f"episode_start must have one entry per env ({n}), got "
                             f"shape {starts.shape}")
        full_reset = n != self._predict_envs or bool(starts.all())
        if full_reset:
            self._predict_rng = np.random.default_rng([self.seed, 3])
            self._predict_envs = n
        readouts = self._predict_readout(self.encoder(batch), starts, full_reset)
        if self.continuous_actions:  # Box: clip(mu) or clip(mu + sigma * eps), (n, D)
            means = self._policy_batch(readouts)[2]
            if not deterministic:
                means = means + self.params.action_noise * self._predict_rng.standard_normal(
                    means.shape)
            actions = self._box_to_env(means)
            return (actions if batched else actions[0]), None
        actions = np.empty(n, dtype=np.int64)
        for b in range(n):
            if deterministic:
                if self.architecture == "action_value":
                    actions[b] = int(np.argmax(readouts[b]))
                else:
                    actions[b] = int(np.argmax(self._action_readout(readouts[b])))
            else:
                probs = self._policy(readouts[b])[2]
                actions[b] = int(self._predict_rng.choice(self.n_actions, p=probs))
        return (actions if batched else actions[0]), None

    # ------------------------------------------------------------------ persistence
    def get_env(self):
        return self.env

    def get_vec_normalize_env(self) -> None:
        """stable-baselines3 callbacks ask for it; the agents never normalise observations."""
        return None

    def set_env(self, env) -> None:
        env = prepare_env(env)
        self._check_spaces(env)
        self.env = env
        self._episode = None
        self._vector = None

    def _check_spaces(self, env) -> None:
        observation_space, action_space = _single_spaces(env)
        if not _spaces_match(observation_space, self.observation_space):
            raise ValueError(f"observation space mismatch: agent {self.observation_space}, "
                             f"env {observation_space}")
        if not _spaces_match(action_space, self.action_space):
            raise ValueError(f"action space mismatch: agent {self.action_space}, "
                             f"env {action_space}")

    def save(self, path: str | os.PathLike) -> str:
        """Write ONE ``.npz`` file (numbers only, JSON metadata inside)."""
        meta = {
            "agent_kind": self.agent_kind,
            "architecture": self.architecture,
            "rule": self.rule,
            "seed": self.seed,
            "env_id": self.env_id,
            "params": self.params.to_json(),
            "observation_space": _space_to_json(self.observation_space),
            "action_space": _space_to_json(self.action_space),
            "num_timesteps": self.num_timesteps,
            "reward_baseline": self.reward_baseline,
            "task_dt_ms": self.task_dt_ms,
        }
        arrays = {"weights": self.weights, **self._extra_state()}
        return save_checkpoint(path, arrays, meta)

    @classmethod
    def load(cls, path: str | os.PathLike, env=None) -> "ThreeFactorAgent":
        """Rebuild an agent from :meth:`save`; ``env`` (optional) must match its spaces."""
        arrays, meta = load_checkpoint(path, cls.agent_kind)
        try:
            obs_space = _space_from_json(meta["observation_space"])
            act_space = _space_from_json(meta["action_space"])
            agent = cls(None, architecture=meta["architecture"], rule=meta["rule"],
                        seed=int(meta["seed"]), _spaces=(obs_space, act_space),
                        _env_id=meta["env_id"], task_dt_ms=meta.get("task_dt_ms"),
                        **meta["params"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"{path}: checkpoint metadata incomplete ({error!r})") from None
        except ValueError as error:  # a recorded value the agent refuses: say which file
            raise ValueError(f"{path}: {error}") from None
        if env is not None:
            agent.set_env(env)
        w = arrays.get("weights")
        if w is None or w.shape != agent.weights.shape or not np.all(np.isfinite(w)):
            raise ValueError(f"{path}: weights missing, non-finite or of shape "
                             f"{None if w is None else w.shape}, expected {agent.weights.shape}")
        agent.weights[...] = w
        agent._push_weights()
        agent._load_extra_state(arrays)
        num_timesteps = meta.get("num_timesteps", 0)
        reward_baseline = meta.get("reward_baseline", 0.0)
        if isinstance(num_timesteps, bool) or not isinstance(num_timesteps, int) or num_timesteps < 0:
            raise ValueError(f"{path}: num_timesteps must be an int >= 0, got {num_timesteps!r}")
        if not isinstance(reward_baseline, (int, float)) or not math.isfinite(reward_baseline):
            raise ValueError(f"{path}: reward_baseline must be a finite number, got "
                             f"{reward_baseline!r}")
        agent.num_timesteps = num_timesteps
        agent.reward_baseline = float(reward_baseline)
        return agent


def preferred_directions(n_dims: int, n_units: int) -> np.ndarray:
    """Preferred unit vectors (n_units, n_dims) of a population-vector actor.

    * D = 1: two opposed halves, +1 then -1 (``n_units`` even);
    * D = 2: a ring, u_k = (cos 2 pi k / N, sin 2 pi k / N) (``n_units`` >= 3; the actor
      ring of Fremaux et al. 2013);
    * D >= 3: N / (2 D) units on each of +e_1, -e_1, ..., +e_D, -e_D, the vertices of the
      cross-polytope on the unit sphere (``n_units`` a multiple of 2 D).

    Each set is a balanced tight frame: sum_k u_k = 0 and sum_k u_k u_k^T = (N / D) I, so
    ``(D / N) sum_k r_k u_k`` recovers exactly the direction a linearly tuned population
    codes, and a rate shared by every unit cancels. Other counts raise a ValueError.
    """
    if isinstance(n_dims, bool) or not isinstance(n_dims, (int, np.integer)) or n_dims < 1:
        raise ValueError(f"Box actions need at least one dimension, got {n_dims!r}")
    if n_dims == 1:
        if n_units < 2 or n_units % 2:
            raise ValueError(f"n_action_directions must be even and >= 2 for 1-D Box actions "
                             f"(two opposed halves), got {n_units}")
        return np.repeat([[1.0], [-1.0]], n_units // 2, axis=0)
    if n_dims == 2:
        if n_units < 3:
            raise ValueError(f"n_action_directions must be >= 3 for 2-D Box actions (a ring), "
                             f"got {n_units}")
        angles = 2.0 * np.pi * np.arange(n_units) / n_units
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if n_units % (2 * n_dims):
        raise ValueError(f"n_action_directions must be a multiple of 2 x {n_dims} for "
                         f"{n_dims}-D Box actions (+- each axis), got {n_units}")
    axes = np.concatenate([np.eye(n_dims), -np.eye(n_dims)])
    return np.repeat(axes, n_units // (2 * n_dims), axis=0)


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@numba.njit(cache=True, nogil=True)
def _decay_and_add(traces, decay, factor, eligibility):
    """``z <- decay * z + factor_j * e_ji`` for every copy ``b``: ``traces[b, j, i] =
    decay * traces[b, j, i] + factor[b, j] * eligibility[b, j, i]`` in one pass (numpy
    needed three passes and a scratch array, about 10 % of a vector step, measured). The
    same floating-point operations in the same order as ``traces *= decay; traces +=
    factor[:, :, None] * eligibility``, so the result is bitwise numpy's."""
    for b in range(traces.shape[0]):
        for j in range(traces.shape[1]):
            f = factor[b, j]
            for i in range(traces.shape[2]):
                traces[b, j, i] = traces[b, j, i] * decay + f * eligibility[b, j, i]


@numba.njit(cache=True, nogil=True)
def _inverse_cdf_sample(probabilities, active, draws, actions):
    """Discrete actions of a vector step, sampled as ``Generator.choice`` does it, in place:
    for copy ``b`` (rows of ``probabilities`` (B, n_actions)) with ``active[b]``, ``cdf =
    cumsum(p_b) / sum(p_b)`` and ``actions[b] = min(#{k: draw >= cdf_k}, n_actions - 1)``
    with the next of ``draws`` (one uniform draw per active copy, in copy order); inactive
    copies get 0. The same operations in the same order as numpy's ``cumsum`` / division /
    comparison (bitwise the same actions), in one call instead of about ten (measured:
    ~15 us of a vector step)."""
    n_actions = probabilities.shape[1]
    k = 0
    for b in range(probabilities.shape[0]):
        actions[b] = 0
        if not active[b]:
            continue
        draw = draws[k]
        k += 1
        total = 0.0
        for a in range(n_actions):
            total += probabilities[b, a]
        cumulative = 0.0
        count = 0
        for a in range(n_actions):
            cumulative += probabilities[b, a]
            if draw >= cumulative / total:
                count += 1
        actions[b] = min(count, n_actions - 1)


@numba.njit(cache=True, nogil=True)
def _discrete_unit_factor(actions, probabilities, active, unit_group, critic, out):
    """Per-output-unit factor of a vector step for discrete actions (module docstring),
    in place into ``out`` (B, n_out): with a critic (``actor_critic``) group 0 gets 1 and
    action group ``1 + k`` gets ``onehot(a)_k - p_k`` (computed as ``-p_k``, plus 1 for
    the chosen action: numpy's order); without (``action_value``) group ``k`` gets
    ``onehot(a)_k``. Inactive copies get 0."""
    first = 1 if critic else 0
    for b in range(out.shape[0]):
        a = actions[b]
        for j in range(out.shape[1]):
            g = unit_group[j]
            if not active[b]:
                f = 0.0
            elif g < first:
                f = 1.0
            else:
                k = g - first
                f = -probabilities[b, k] if critic else 0.0
                if k == a:
                    f += 1.0
            out[b, j] = f


@numba.njit(cache=True, nogil=True)
def _add_clipped(weights, dw, w_min, w_max):
    """``w <- clip(w + dw, w_min, w_max)`` in one pass: the same operations as ``w += dw;
    np.clip(w, w_min, w_max, out=w)`` (bitwise numpy's, NaN included)."""
    for j in range(weights.shape[0]):
        for i in range(weights.shape[1]):
            w = weights[j, i] + dw[j, i]
            if w < w_min:  # comparisons, not min / max: NaN stays NaN, as with np.clip
                w = w_min
            if w > w_max:
                w = w_max
            weights[j, i] = w


@numba.njit(cache=True, nogil=True)
def _vector_transitions(rewards, terminated, truncated, active, reward_scale, gamma,
                        next_values, old_values, baselines, baseline_rate, td, returns, lengths,
                        dones, errors):
    """The bookkeeping and the error signal of one vector step, per copy ``b``, in one
    pass (numpy took about fifteen calls): for an active copy (no reset step) the episode
    return and length grow, ``dones = terminated | truncated``, and the error is the TD
    error ``r + gamma * V' - old`` (``td``; ``r = reward_scale * reward``, ``V'`` =
    ``next_values`` bootstrapped on truncation, 0 on termination) or, for ``rstdp``, the
    reward minus the copy's running baseline (which then moves by ``baseline_rate`` x
    the error). Inactive copies: not done, error 0. The same operations in the same order
    as the numpy code it replaced (bitwise the same errors). -> all errors finite."""
    finite = True
    for b in range(rewards.size):
        terminal = terminated[b] and active[b]
        dones[b] = terminal or (truncated[b] and active[b])
        r = reward_scale * rewards[b]
        if td:
            error = r + gamma * (0.0 if terminal else next_values[b]) - old_values[b]
        else:
            error = r - baselines[b]
        if active[b]:
            returns[b] += rewards[b]
            lengths[b] += 1
            if not td:
                baselines[b] += baseline_rate * error
        else:
            error = 0.0
        errors[b] = error
        finite = finite and np.isfinite(error)
    return finite


def _advance_traces(traces, rise_traces, rise, decay, factor, eligibility) -> None:
    """One env step of the synaptic traces z of every copy ``b`` (all arrays (B, n_out,
    n_in), ``factor`` (B, n_out)): the single exponential when ``rise`` is 0, else the
    rising cascade (module docstring, "Eligibility time course"). The one home of the trace
    update, for the single-env and the vector-env paths."""
    if rise:
        _rise_decay_and_add(traces, rise_traces, rise, decay, factor, eligibility)
    else:
        _decay_and_add(traces, decay, factor, eligibility)


@numba.njit(cache=True, nogil=True)
def _rise_decay_and_add(traces, rise_traces, rise, decay, factor, eligibility):
    """The rising eligibility (module docstring, "Eligibility time course") for every copy
    ``b``: ``z1 <- rise * z1 + factor_j * e_ji``, then ``z <- decay * z + (1 - rise) * z1``,
    in one pass over ``traces`` (z) and ``rise_traces`` (z1), both (B, n_out, n_in)."""
    gain = 1.0 - rise
    for b in range(traces.shape[0]):
        for j in range(traces.shape[1]):
            f = factor[b, j]
            for i in range(traces.shape[2]):
                z1 = rise_traces[b, j, i] * rise + f * eligibility[b, j, i]
                rise_traces[b, j, i] = z1
                traces[b, j, i] = traces[b, j, i] * decay + gain * z1


def _task_dt_ms(env) -> float:
    """ms of task time per env step: a wrapper's (NeuromodulatorSignals) or the task's own
    ``dt_ms``; 20 ms when neither declares one. A vector env: its first sub-env's."""
    if _is_vector_env(env):
        if hasattr(env, "envs"):  # SyncVectorEnv
            return _task_dt_ms(env.envs[0])
        if hasattr(env, "env_fns"):  # AsyncVectorEnv: a missing attribute would kill its
            probe = env.env_fns[0]()  # workers, so read a fresh copy of a sub-env instead
            try:
                return _task_dt_ms(probe)
            finally:
                probe.close()
        return 20.0
    inner = env
    while isinstance(inner, gym.Wrapper):
        if "dt_ms" in vars(inner):
            return float(vars(inner)["dt_ms"])
        inner = inner.env
    dt = getattr(env.unwrapped, "dt_ms", None)
    return float(dt) if dt is not None else 20.0


def _adapt_callback(callback, agent):
    """Make a stable-baselines3 BaseCallback or a plain callable into ``f(locals, globals)``."""
    if callback is None:
        return None
    if hasattr(callback, "init_callback") and hasattr(callback, "on_step"):
        if getattr(agent, "logger", None) is None:
            # stable-baselines3 callbacks record through model.logger; a silent one here.
            from stable_baselines3.common.logger import Logger
            agent.logger = Logger(folder=None, output_formats=[])
        callback.init_callback(agent)
        callback.on_training_start(locals(), globals())

        def call(local_vars, global_vars):
            callback.update_locals(local_vars)
            return callback.on_step()
        return call
    if callable(callback):
        return callback
    raise ValueError(f"callback must be callable or a stable-baselines3 BaseCallback, got "
                     f"{type(callback).__name__}")
