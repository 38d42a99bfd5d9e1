"""Counter-based random numbers for the spiking engine.

Every random number is a pure function of its coordinates, never of a generator state
that threads would share or advance in a thread-dependent order. That is what makes
network ``b`` of a population bitwise identical to the same network run alone, with any
number of numba threads.

Definition (all arithmetic on unsigned 64-bit integers, wrapping)::

    mix(z)        = splitmix64 finaliser:  z ^= z >> 30; z *= 0xBF58476D1CE4E5B9;
                                           z ^= z >> 27; z *= 0x94D049BB133111EB;
                                           z ^= z >> 31
    network_key   = mix(mix(seed + GOLDEN) + (network + 1) * GOLDEN)
    unit(z)       = (z >> 11) * 2**-53            (uniform on [0, 1))

    source spike draw of neuron i at step t:
        u = unit(mix(mix((network_key ^ SOURCE_SALT) + t * GOLDEN) + (i + 1) * ODD))
        spike if u < p_i

    background pulse k of neuron i (k = 0, 1, 2, ...), inter-pulse gap in steps:
        u = 1 - unit(mix(mix((network_key ^ BACKGROUND_SALT) + (i + 1) * GOLDEN) + k * ODD))
        gap_k = 1 + floor(log(u) / log1p(-p_i))          (geometric, >= 1)
        pulse times: T_0 = start + gap_0 - 1,  T_k = T_{k-1} + gap_k

    uniform noise current of neuron i at step t (NetworkBuilder.set_noise_current):
        u = unit(mix(mix((network_key ^ NOISE_SALT) + t * GOLDEN) + (i + 1) * ODD))
        I = low_i + (high_i - low_i) u

    delay of the k-th firing (k = 0, 1, ...) of release trigger j (ReleaseTrigger):
        u = unit(mix(mix((network_key ^ TRIGGER_SALT) + (j + 1) * GOLDEN) + k * ODD))
        delay = lo_j + floor(u (hi_j - lo_j + 1))          (uniform on lo_j..hi_j steps)

The sparse background input uses geometric gaps keyed by (seed, network, neuron, draw
index) instead of one draw per (step, neuron): it is the same Bernoulli(p)-per-step
process in distribution, and at Workload W's p = 0.002 it needs 500x fewer hashes. The
saving is modest because the per-step draws vectorise: 10^7 of them (W's 1000 neurons x
10,000 steps) cost 6.8 ms on this project's machines, about 12 % of a W run (measured).
Source neurons (encoders) use per-(step, neuron) draws because their probabilities change
with every observation.
"""
from __future__ import annotations

import math

import numba
import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
ODD = 0xD1B54A32D192ED03
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB
SOURCE_SALT = 0x5EED0F5A11CE0001
BACKGROUND_SALT = 0xBAC6A0D0CAFE0002
NOISE_SALT = 0x401CE0C0FFEE0003
TRIGGER_SALT = 0x7A16E4ED0E1A0004
# Stand-in for "never" as a pulse time (p = 0 or an astronomically long gap).
NEVER = np.int64(2**62)

_U_GOLDEN = np.uint64(GOLDEN)
_U_ODD = np.uint64(ODD)
_U_MIX_1 = np.uint64(MIX_1)
_U_MIX_2 = np.uint64(MIX_2)
_U_SOURCE_SALT = np.uint64(SOURCE_SALT)
_U_BACKGROUND_SALT = np.uint64(BACKGROUND_SALT)
_U_NOISE_SALT = np.uint64(NOISE_SALT)
_U_TRIGGER_SALT = np.uint64(TRIGGER_SALT)
_U_ONE = np.uint64(1)
_SHIFT_30 = np.uint64(30)
_SHIFT_27 = np.uint64(27)
_SHIFT_31 = np.uint64(31)
_SHIFT_11 = np.uint64(11)
_UNIT = 2.0**-53


@numba.njit(cache=True, inline="always", _nrt=False)
def mix64(z):
    """splitmix64 finaliser of a uint64."""
    z = (z ^ (z >> _SHIFT_30)) * _U_MIX_1
    z = (z ^ (z >> _SHIFT_27)) * _U_MIX_2
    return z ^ (z >> _SHIFT_31)


@numba.njit(cache=True, inline="always", _nrt=False)
def unit_float(z):
    """Top 53 bits of a uint64 as a float64 uniform on [0, 1)."""
    return np.float64(z >> _SHIFT_11) * _UNIT


@numba.njit(cache=True, _nrt=False)
def network_key(seed, network):
    return mix64(mix64(np.uint64(seed) + _U_GOLDEN) + (np.uint64(network) + _U_ONE) * _U_GOLDEN)


@numba.njit(cache=True, inline="always", _nrt=False)
def source_step_key(key, t):
    """Per-step key of the source stream; hashed with the neuron index for each draw."""
    return mix64((key ^ _U_SOURCE_SALT) + np.uint64(t) * _U_GOLDEN)


@numba.njit(cache=True, inline="always", _nrt=False)
def source_uniform(step_key, i):
    return unit_float(mix64(step_key + (np.uint64(i) + _U_ONE) * _U_ODD))


@numba.njit(cache=True, inline="always", _nrt=False)
def background_gap(key, i, k, log1m_p):
    """Steps until the next background pulse (>= 1); ``log1m_p = log1p(-p)``."""
    h = mix64((key ^ _U_BACKGROUND_SALT) + (np.uint64(i) + _U_ONE) * _U_GOLDEN)
    u = 1.0 - unit_float(mix64(h + np.uint64(k) * _U_ODD))
    if log1m_p == 0.0:
        return NEVER
    g = math.floor(math.log(u) / log1m_p)
    if g >= 2.0**61:
        return NEVER
    return np.int64(g) + 1


@numba.njit(cache=True, inline="always", _nrt=False)
def noise_step_key(key, t):
    """Per-step key of the noise-current stream; ``source_uniform(noise_step_key, i)`` is
    neuron ``i``'s uniform draw of step ``t``."""
    return mix64((key ^ _U_NOISE_SALT) + np.uint64(t) * _U_GOLDEN)


@numba.njit(cache=True, inline="always", _nrt=False)
def trigger_uniform(key, j, k):
    """Uniform draw of the ``k``-th firing of release trigger ``j``."""
    h = mix64((key ^ _U_TRIGGER_SALT) + (np.uint64(j) + _U_ONE) * _U_GOLDEN)
    return unit_float(mix64(h + np.uint64(k) * _U_ODD))
