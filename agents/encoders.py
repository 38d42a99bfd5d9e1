"""Observation -> input spikes: rate, population (place-cell) and one-hot coding.

Every encoder maps one observation to a rate in Hz per input neuron and converts it to
the spike probability per engine step ``dt_ms`` that a
:class:`agents.snn.PoissonSource` population samples (``Network.set_source_probabilities``)
with the engine's counter-based generator:

    p = 1 - exp(-rate_hz * dt_ms / 1000)

the probability that a Poisson process of that rate fires at least once in the step (so
``p <= 1`` at any rate, and ``p ~ rate dt`` for small ``rate dt``).

* :class:`RateEncoder`: one neuron per observation dimension, rate linear in the value
  between ``low`` and ``high`` (clipped).
* :class:`PopulationEncoder`: ``neurons_per_dim`` neurons per dimension with Gaussian
  tuning curves (place cells) whose centres tile ``[low, high]``; infinite bounds are
  squashed first (see the class).
* :class:`OneHotEncoder`: a Discrete observation ``k`` drives neuron ``k`` at
  ``max_rate_hz`` (others at ``baseline_rate_hz``).

:func:`encoder_for_space` picks one for a Gymnasium space.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "rate_to_probability",
    "RateEncoder",
    "PopulationEncoder",
    "OneHotEncoder",
    "encoder_for_space",
]


def rate_to_probability(rate_hz, dt_ms: float) -> np.ndarray:
    """Per-step spike probability ``1 - exp(-rate dt)`` of Poisson rates in Hz."""
    rate = np.asarray(rate_hz, dtype=np.float64)
    if np.any(~np.isfinite(rate)) or np.any(rate < 0):
        raise ValueError("rates must be finite and >= 0 Hz")
    return -np.expm1(-rate * (dt_ms / 1000.0))


def _check_dt(dt_ms: float) -> float:
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise ValueError(f"dt_ms must be finite and > 0, got {dt_ms!r}")
    return float(dt_ms)


def _check_rate(name: str, value: float) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and >= 0 Hz, got {value!r}")
    return float(value)


def _observation(obs, shape: tuple[int, ...]) -> np.ndarray:
    x = np.asarray(obs, dtype=np.float64)
    if x.shape != shape:
        raise ValueError(f"observation has shape {x.shape}, expected {shape}")
    if np.any(np.isnan(x)):
        raise ValueError("observation contains NaN")
    return x


def _bounds(low, high) -> tuple[np.ndarray, np.ndarray]:
    lo = np.atleast_1d(np.asarray(low, dtype=np.float64))
    hi = np.atleast_1d(np.asarray(high, dtype=np.float64))
    if lo.shape != hi.shape or lo.ndim != 1:
        raise ValueError(f"low and high must be 1-D of equal shape, got {lo.shape} and {hi.shape}")
    if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo >= hi):
        raise ValueError("need low < high (no NaN) in every dimension")
    return lo, hi


class RateEncoder:
    """One input neuron per dimension; rate ``max_rate_hz * clip((x - low) / (high - low))``.

    Parameters: ``low`` / ``high`` (finite, one value per dimension),
    ``max_rate_hz``, ``dt_ms`` (engine step).
    """

    def __init__(self, low, high, max_rate_hz: float = 100.0, dt_ms: float = 1.0) -> None:
        self.low, self.high = _bounds(low, high)
        if not (np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high))):
            raise ValueError("RateEncoder needs finite bounds; use PopulationEncoder for "
                             "unbounded observations")
        self.max_rate_hz = _check_rate("max_rate_hz", max_rate_hz)
        self.dt_ms = _check_dt(dt_ms)

    @property
    def n_neurons(self) -> int:
        return int(self.low.size)

    def rates_hz(self, obs) -> np.ndarray:
        x = _observation(obs, self.low.shape)
        return self.max_rate_hz * np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)

    def __call__(self, obs) -> np.ndarray:
        """Per-step spike probabilities, shape ``(n_neurons,)``."""
        return rate_to_probability(self.rates_hz(obs), self.dt_ms)


class PopulationEncoder:
    """Gaussian tuning curves (place cells), ``neurons_per_dim`` per observation dimension.

    For dimension ``d`` the centres ``c_k`` are evenly spaced over ``[low_d, high_d]``
    (ends included), the width is ``sigma_d = width_factor * (c_{k+1} - c_k)``, and the rate
    of neuron ``(d, k)`` is ``max_rate_hz * exp(-(x_d - c_k)^2 / (2 sigma_d^2))``; values
    outside the range are clipped to it, so the edge cells keep coding them. Neuron order
    is dimension-major: neuron ``d * neurons_per_dim + k``.

    Infinite bounds (common in Gymnasium Box spaces, e.g. CartPole velocities): give a
    finite ``ranges[d] = (low, high)`` to use instead, or leave it and the dimension is
    squashed by ``x -> tanh(x / squash_scale_d)`` onto ``(-1, 1)`` before coding.
    """

    def __init__(self, low, high, neurons_per_dim: int = 10, max_rate_hz: float = 100.0,
                 dt_ms: float = 1.0, width_factor: float = 1.0, ranges=None,
                 squash_scale=1.0) -> None:
        lo = np.atleast_1d(np.asarray(low, dtype=np.float64)).copy()
        hi = np.atleast_1d(np.asarray(high, dtype=np.float64)).copy()
        if lo.shape != hi.shape or lo.ndim != 1:
            raise ValueError(f"low and high must be 1-D of equal shape, got {lo.shape} and {hi.shape}")
        if ranges is not None:
            for d, rng in enumerate(ranges):
                if rng is not None:
                    if d >= lo.size:
                        raise ValueError(f"ranges has an entry for dimension {d}, but there are {lo.size}")
                    lo[d], hi[d] = float(rng[0]), float(rng[1])
        self.squash = ~(np.isfinite(lo) & np.isfinite(hi))
        scale = np.broadcast_to(np.asarray(squash_scale, dtype=np.float64), lo.shape).copy()
        if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
            raise ValueError("squash_scale must be finite and > 0")
        self.squash_scale = scale
        lo[self.squash] = -1.0
        hi[self.squash] = 1.0
        self.low, self.high = _bounds(lo, hi)
        if neurons_per_dim < 2:
            raise ValueError(f"neurons_per_dim must be >= 2, got {neurons_per_dim}")
        if not (math.isfinite(width_factor) and width_factor > 0):
            raise ValueError(f"width_factor must be finite and > 0, got {width_factor!r}")
        self.neurons_per_dim = int(neurons_per_dim)
        self.max_rate_hz = _check_rate("max_rate_hz", max_rate_hz)
        self.dt_ms = _check_dt(dt_ms)
        fractions = np.linspace(0.0, 1.0, self.neurons_per_dim)
        self.centres = self.low[:, None] + fractions[None, :] * (self.high - self.low)[:, None]
        self.sigma = width_factor * (self.high - self.low) / (self.neurons_per_dim - 1)

    @property
    def n_neurons(self) -> int:
        return int(self.low.size * self.neurons_per_dim)

    def rates_hz(self, obs) -> np.ndarray:
        x = _observation(obs, self.low.shape)
        x = np.where(self.squash, np.tanh(x / self.squash_scale), x)
        x = np.clip(x, self.low, self.high)
        z = (x[:, None] - self.centres) / self.sigma[:, None]
        return (self.max_rate_hz * np.exp(-0.5 * z * z)).reshape(-1)

    def __call__(self, obs) -> np.ndarray:
        """Per-step spike probabilities, shape ``(n_neurons,)``."""
        return rate_to_probability(self.rates_hz(obs), self.dt_ms)


class OneHotEncoder:
    """Discrete observation ``k`` in ``[0, n)``: neuron ``k`` fires at ``max_rate_hz``,
    the others at ``baseline_rate_hz``."""

    def __init__(self, n: int, max_rate_hz: float = 100.0, dt_ms: float = 1.0,
                 baseline_rate_hz: float = 0.0) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n = int(n)
        self.max_rate_hz = _check_rate("max_rate_hz", max_rate_hz)
        self.baseline_rate_hz = _check_rate("baseline_rate_hz", baseline_rate_hz)
        self.dt_ms = _check_dt(dt_ms)

    @property
    def n_neurons(self) -> int:
        return self.n

    def rates_hz(self, obs) -> np.ndarray:
        k = np.asarray(obs)
        if k.shape != () or not np.issubdtype(k.dtype, np.integer):
            raise ValueError(f"observation must be a scalar integer, got {obs!r}")
        if not 0 <= int(k) < self.n:
            raise ValueError(f"observation {int(k)} out of range [0, {self.n})")
        rates = np.full(self.n, self.baseline_rate_hz)
        rates[int(k)] = self.max_rate_hz
        return rates

    def __call__(self, obs) -> np.ndarray:
        return rate_to_probability(self.rates_hz(obs), self.dt_ms)


def encoder_for_space(space, dt_ms: float = 1.0, max_rate_hz: float = 100.0,
                      neurons_per_dim: int = 10, **kwargs):
    """A :class:`PopulationEncoder` for a 1-D ``Box``, a :class:`OneHotEncoder` for a
    ``Discrete`` space (``Discrete(n, start)`` observations are shifted by ``start``)."""
    from gymnasium import spaces

    if isinstance(space, spaces.Box):
        if len(space.shape) != 1:
            raise ValueError(f"only 1-D Box spaces are supported, got shape {space.shape}")
        return PopulationEncoder(space.low, space.high, neurons_per_dim=neurons_per_dim,
                                 max_rate_hz=max_rate_hz, dt_ms=dt_ms, **kwargs)
    if isinstance(space, spaces.Discrete):
        enc = OneHotEncoder(int(space.n), max_rate_hz=max_rate_hz, dt_ms=dt_ms, **kwargs)
        start = int(space.start)
        if start == 0:
            return enc
        return _Shifted(enc, start)
    raise ValueError(f"no encoder for space {space!r}; supported: Box (1-D), Discrete")


class _Shifted:
    """OneHotEncoder for ``Discrete(n, start)``: subtracts ``start`` first."""

    def __init__(self, encoder: OneHotEncoder, start: int) -> None:
        self.encoder = encoder
        self.start = start
        self.n_neurons = encoder.n_neurons

    def rates_hz(self, obs):
        return self.encoder.rates_hz(np.asarray(obs) - self.start)

    def __call__(self, obs):
        return self.encoder(np.asarray(obs) - self.start)
