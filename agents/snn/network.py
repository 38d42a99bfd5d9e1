"""Network container: building, validation, running, recording.

Order of operations of one step ``t`` (the engine's single definition; the reference in
``tests/reference/snn_reference.py`` follows it literally)::

    1. modulators      M <- a_M M + pulse(t) + release[t] + triggered releases due at t
    2. flush           if the sign of any (gain * M) changed, or the epoch is full:
                       bring every plastic synapse up to date (clip) and start a new epoch
    3. neurons         input(t) = pending synaptic input of slot t + noise current(t)
                       + background pulse; integrate one step; spike + reset (models.py)
    3b. triggers       release triggers watching this step's spikes schedule a modulator
                       release at t + delay (plasticity.ReleaseTrigger)
    4. trace decay     every neuron trace x <- a_x x (eligibility c <- a_c c implicitly)
    5. pre spikes      for each outgoing synapse: [plastic] bring up to date, c += g x_post;
                       then deliver the current weight w into the input slot t + delay
    6. post spikes     for each incoming plastic synapse: bring up to date, c += g x_pre
    7. trace increment x <- x + inc (or x <- inc) for neurons that spiked at t
    8. conversion      w <- clip(w + dt sum_q g_q M_q(t) c_k(t), w_min, w_max), plastic
                       synapses (applied lazily: see kernels.py); with a rule's weight
                       update period of P steps only at t % P == 0, with P dt for dt
    9. recording       spike counts (per network and per neuron), spike monitor, probes
                       every ``probe_period_steps``

A rule without conversions is an eligibility-only rule: steps 5 and 6 pair as above
(nothing to bring up to date) and step 8 never changes a weight, so the weights are
whatever :meth:`Network.set_weights` last set: the engine accumulates eligibility for an
agent that applies its own three-factor update (:meth:`Network.accumulated_eligibility`).

Population layout: ``B`` networks share the topology (CSR indices and delays), the
neuron models and the rule's structure; each has its own state (membranes, traces,
weights, eligibilities, modulators), random stream (``seed``, ``network_index``), and
can have its own neuron parameters (:meth:`Network.set_neuron_model`, same model type per
population), weights (:meth:`Network.set_weights`), source probabilities
(:meth:`Network.set_source_probabilities`), modulator pulse amount
(:meth:`Network.set_modulator_pulse`) and release schedule (``run(release=)``), and
learning-rate scale (:meth:`Network.set_learning_rate_scale`). Background input, noise
currents and release triggers are the same for all networks (their random draws are
each network's own). Different topologies are different :class:`Network` objects. Network ``b`` of a
population equals, bitwise, a ``population_size=1`` network built with
``seed=seed`` and ``network_indices=[b]`` (tested with 1 and 2 numba threads).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Sequence

import numba
import numpy as np

from agents.snn import kernels
from agents.snn.connectivity import MAX_DELAY_STEPS, CSRSynapses, build_csr
from agents.snn.models import (
    N_NEURON_PARAMETERS,
    ConductanceLIF,
    Izhikevich,
    LIF,
    PoissonSource,
    initial_state,
    pack_parameters,
)
from agents.snn.plasticity import Modulator, PlasticityRule, ReleaseTrigger, pack_rule
from agents.snn.rng import network_key

__all__ = ["Population", "NetworkBuilder", "Network"]

_DTYPES = {"float32": np.float32, "float64": np.float64}
_NEURON_MODELS = (PoissonSource, Izhikevich, LIF, ConductanceLIF)


@dataclass(frozen=True)
class Population:
    """A contiguous range ``start:stop`` of neurons sharing one model."""

    name: str
    start: int
    stop: int
    model: object

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def indices(self) -> np.ndarray:
        return np.arange(self.start, self.stop)


@dataclass
class _Projection:
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    delay: np.ndarray
    plastic: bool


def _neuron_indices(target, what: str, n_neurons: int) -> np.ndarray:
    """Population, sequence of populations, or an index array -> sorted unique indices."""
    if isinstance(target, Population):
        return target.indices
    if isinstance(target, (list, tuple)) and target and all(
            isinstance(p, Population) for p in target):
        return np.unique(np.concatenate([p.indices for p in target]))
    idx = np.asarray(target)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise ValueError(f"{what} must be a Population, a list of them or a 1-D integer array")
    if idx.size and (idx.min() < 0 or idx.max() >= n_neurons):
        raise ValueError(
            f"{what} index out of range: neurons are 0..{n_neurons - 1}, got "
            f"{int(idx.min())}..{int(idx.max())}"
        )
    return np.unique(idx)


def _tile(value, shape, dtype=np.float64) -> np.ndarray:
    """A fresh writable C-contiguous array of ``shape`` filled by broadcasting ``value``."""
    return np.array(np.broadcast_to(value, shape), dtype=dtype, order="C", copy=True)


def _per_synapse(value, n: int, what: str, dtype) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n, arr, dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"{what} must be a scalar or have shape ({n},), got {arr.shape}")
    return arr


class NetworkBuilder:
    """Collects populations, projections and background input, then :meth:`build`."""

    def __init__(self, dt_ms: float = 1.0, topology_seed: int = 0) -> None:
        if not (math.isfinite(dt_ms) and dt_ms > 0):
            raise ValueError(f"dt_ms must be finite and > 0, got {dt_ms!r}")
        self.dt_ms = float(dt_ms)
        self.populations: list[Population] = []
        self._projections: list[_Projection] = []
        self._rng = np.random.default_rng(topology_seed)
        self._background: list[tuple[np.ndarray, float, float]] = []
        self._noise: list[tuple[np.ndarray, float, float]] = []

    @property
    def n_neurons(self) -> int:
        return self.populations[-1].stop if self.populations else 0

    def add_population(self, name: str, size: int, model) -> Population:
        if not isinstance(model, _NEURON_MODELS):
            raise TypeError(f"model must be one of {[m.__name__ for m in _NEURON_MODELS]}")
        if size <= 0:
            raise ValueError(f"population {name!r} size must be > 0, got {size}")
        if any(p.name == name for p in self.populations):
            raise ValueError(f"duplicate population name {name!r}")
        pop = Population(name, self.n_neurons, self.n_neurons + int(size), model)
        self.populations.append(pop)
        return pop

    def connect(self, source, target, connectivity, weight=1.0, delay_steps=1,
                plastic: bool = False) -> int:
        """Add synapses from ``source`` to ``target`` neurons; returns how many.

        ``weight`` and ``delay_steps`` are scalars or one value per created synapse (in the
        order the connectivity rule returns them). Weights of excitatory synapses are
        >= 0 and of inhibitory ones < 0 (the sign picks the input channel). ``plastic``
        synapses follow the network's rule and must start inside its bounds.
        """
        sources = _neuron_indices(source, "source", self.n_neurons)
        targets = _neuron_indices(target, "target", self.n_neurons)
        pre, post = connectivity.pairs(sources, targets, self._rng)
        n = pre.size
        w = _per_synapse(weight, n, "weight", np.float64)
        if not np.all(np.isfinite(w)):
            raise ValueError("weights must be finite")
        d_raw = np.asarray(delay_steps)
        if d_raw.size and not np.issubdtype(d_raw.dtype, np.integer):
            if not np.all(np.isfinite(d_raw)) or np.any(d_raw != np.round(d_raw)):
                raise ValueError("delay_steps must be integers (steps)")
        d = _per_synapse(delay_steps, n, "delay_steps", np.int64)
        if n and (d.min() < 1 or d.max() > MAX_DELAY_STEPS):
            raise ValueError(
                f"delay_steps must be in [1, {MAX_DELAY_STEPS}], got {int(d.min())}..{int(d.max())}"
            )
        self._projections.append(_Projection(pre, post, w, d, bool(plastic)))
        return n

    def set_background(self, target, probability_per_step: float, amplitude: float) -> None:
        """Each step, each neuron of ``target`` independently receives an input pulse of
        ``amplitude`` (same units as a synaptic weight) with ``probability_per_step``."""
        idx = _neuron_indices(target, "background target", self.n_neurons)
        if not (0.0 <= probability_per_step <= 1.0):
            raise ValueError(f"probability_per_step must be in [0, 1], got {probability_per_step!r}")
        if not math.isfinite(amplitude):
            raise ValueError(f"background amplitude must be finite, got {amplitude!r}")
        self._background.append((idx, float(probability_per_step), float(amplitude)))

    def set_noise_current(self, target, low: float, high: float) -> None:
        """Each step, each neuron of ``target`` receives an input current drawn
        independently and uniformly from ``[low, high)`` (same units as a synaptic
        weight), e.g. the random thalamic input ``13 (rand - 0.5)`` of Izhikevich (2007):
        ``low=-6.5, high=6.5``. Draws come from the counter-based generator (rng.py).
        Current-based models only (Izhikevich, LIF); a later call for the same neurons
        replaces the earlier one."""
        idx = _neuron_indices(target, "noise target", self.n_neurons)
        if not (math.isfinite(low) and math.isfinite(high) and low <= high):
            raise ValueError(f"noise current needs finite low <= high, got [{low!r}, {high!r})")
        for p in self.populations:
            if not isinstance(p.model, (Izhikevich, LIF)) and np.any(
                    (idx >= p.start) & (idx < p.stop)):
                raise ValueError(
                    f"noise current is for current-based models (Izhikevich, LIF); population "
                    f"{p.name!r} is {type(p.model).__name__}")
        self._noise.append((idx, float(low), float(high)))

    def build(
        self,
        population_size: int = 1,
        seed: int = 0,
        network_indices: Sequence[int] | None = None,
        dtype: str = "float64",
        rule: PlasticityRule | None = None,
        modulators: Sequence[Modulator] = (),
        spike_capacity: int = 100_000,
        probe_neurons: Sequence[int] | None = None,
        probe_period_steps: int = 1,
        probe_capacity: int = 0,
        triggers: Sequence[ReleaseTrigger] = (),
        trigger_log_capacity: int = 10_000,
    ) -> "Network":
        """Freeze the topology and allocate the state of ``population_size`` networks.

        ``triggers``: :class:`agents.snn.plasticity.ReleaseTrigger` s (in-kernel reward
        contingencies: a spike, or a pre -> post spike pairing, schedules a modulator
        release after a random delay); the last ``trigger_log_capacity`` firings are kept
        (:meth:`Network.trigger_events`)."""
        if not self.populations:
            raise ValueError("add at least one population before build()")
        n = self.n_neurons
        if self._projections:
            pre = np.concatenate([p.pre for p in self._projections])
            post = np.concatenate([p.post for p in self._projections])
            weight = np.concatenate([p.weight for p in self._projections])
            delay = np.concatenate([p.delay for p in self._projections])
            plastic = np.concatenate([np.full(p.pre.size, p.plastic) for p in self._projections])
        else:
            pre = post = delay = np.zeros(0, np.int64)
            weight = np.zeros(0)
            plastic = np.zeros(0, bool)
        if plastic.any() and rule is None:
            raise ValueError("plastic synapses need a rule (build(rule=...))")
        if rule is not None and plastic.any():
            w_p = weight[plastic]
            if w_p.min() < rule.w_min or w_p.max() > rule.w_max:
                raise ValueError(
                    f"initial plastic weights {w_p.min()}..{w_p.max()} outside the rule's "
                    f"bounds [{rule.w_min}, {rule.w_max}]"
                )
        csr = build_csr(n, pre, post, weight, delay, plastic)
        background_p = np.zeros(n)
        background_amp = np.zeros(n)
        for idx, p, amp in self._background:
            background_p[idx] = p
            background_amp[idx] = amp
        noise_low = np.zeros(n)
        noise_high = np.zeros(n)
        for idx, low, high in self._noise:
            noise_low[idx] = low
            noise_high[idx] = high
        return Network(
            dt_ms=self.dt_ms,
            populations=tuple(self.populations),
            synapses=csr,
            background_probability=background_p,
            background_amplitude=background_amp,
            population_size=population_size,
            seed=seed,
            network_indices=network_indices,
            dtype=dtype,
            rule=rule,
            modulators=tuple(modulators),
            spike_capacity=spike_capacity,
            probe_neurons=probe_neurons,
            probe_period_steps=probe_period_steps,
            probe_capacity=probe_capacity,
            noise_low=noise_low,
            noise_high=noise_high,
            triggers=tuple(triggers),
            trigger_log_capacity=trigger_log_capacity,
        )


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _ring_order(written: int, capacity: int) -> np.ndarray:
    """Indices of a ring buffer's entries, oldest first, after ``written`` writes (the last
    ``capacity`` survive)."""
    if written <= capacity:
        return np.arange(written)
    start = written % capacity
    return np.r_[start:capacity, 0:start]


def _for_each_network(n_networks: int, call) -> None:
    """``call(first, stop)`` for contiguous chunks of networks covering ``0 .. n-1``, one
    chunk per thread, on ``numba.get_num_threads()`` threads at most.

    The kernels loop over their chunk inside numba and release the GIL, so the threads
    run in parallel and a population costs one kernel call per thread; results do not
    depend on which thread runs which network (see kernels.py). The calling thread runs
    the first chunk itself, so a call costs two thread hand-offs."""
    threads = min(numba.get_num_threads(), n_networks)
    if threads <= 1:
        call(0, n_networks)
        return
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS[threads] = ThreadPoolExecutor(threads - 1, thread_name_prefix="snn")
    bounds = np.linspace(0, n_networks, threads + 1).astype(int)
    futures = [pool.submit(call, int(bounds[k]), int(bounds[k + 1])) for k in range(1, threads)]
    call(0, int(bounds[1]))
    for future in futures:
        future.result()


def _dense_rows(synapses: CSRSynapses) -> np.ndarray:
    """1 for each presynaptic neuron whose synapses (CSR row) all have the same delay and
    reach consecutive postsynaptic neurons in order, else 0 (uint8, one per neuron)."""
    n = synapses.row_ptr.size - 1
    dense = np.zeros(n, dtype=np.uint8)
    if synapses.n_synapses == 0:
        return dense
    row = np.repeat(np.arange(n), np.diff(synapses.row_ptr))
    post = synapses.post.astype(np.int64)
    delay = synapses.delay.astype(np.int64)
    # a synapse breaks its row's run when it is not the row's first and its post / delay
    # do not continue the previous synapse's
    first = np.zeros(row.size, dtype=bool)
    first[synapses.row_ptr[:-1][np.diff(synapses.row_ptr) > 0]] = True
    follows = np.ones(row.size, dtype=bool)
    follows[1:] = (post[1:] == post[:-1] + 1) & (delay[1:] == delay[:-1])
    broken = np.bincount(row[~(first | follows)], minlength=n)
    dense[(broken == 0) & (np.diff(synapses.row_ptr) > 0)] = 1
    return dense


def _dense_columns(synapses: CSRSynapses) -> np.ndarray:
    """1 for each postsynaptic neuron whose plastic incoming synapses (its post -> pre
    entries) come from consecutive presynaptic neurons in order, else 0 (uint8, one per
    neuron)."""
    n = synapses.col_ptr.size - 1
    dense = np.zeros(n, dtype=np.uint8)
    counts = np.diff(synapses.col_ptr)
    if synapses.col_pre.size == 0:
        return dense
    column = np.repeat(np.arange(n), counts)
    pre = synapses.col_pre.astype(np.int64)
    first = np.zeros(pre.size, dtype=bool)
    first[synapses.col_ptr[:-1][counts > 0]] = True
    follows = np.ones(pre.size, dtype=bool)
    follows[1:] = pre[1:] == pre[:-1] + 1
    broken = np.bincount(column[~(first | follows)], minlength=n)
    dense[(broken == 0) & (counts > 0)] = 1
    return dense


def _null_rule() -> PlasticityRule:
    """Stand-in used when a network has no plasticity: no conversions, so never touched."""
    from agents.snn.plasticity import EligibilityTrace

    return PlasticityRule("none", (), (EligibilityTrace("unused", math.inf, None, None),), (),
                          -math.inf, math.inf)


class Network:
    """``B`` independent spiking networks with a shared topology (see module docstring).

    Build with :class:`NetworkBuilder`. :meth:`run` advances all networks by ``n_steps``
    (one kernel call per network, networks spread over ``numba.get_num_threads()``
    threads); :meth:`weights`, :meth:`eligibility` and :meth:`state_dict` flush pending
    plasticity first, so what they return is exact.

    Public state (numpy arrays, network axis first): ``v`` (membrane potential, mV),
    ``s1`` (second state variable: Izhikevich ``u``, LIF ``I_syn``, conductance LIF
    ``g_exc``), ``s2`` (conductance LIF ``g_inh``), ``traces`` (neuron traces of the rule),
    ``modulator_levels``, ``spike_count`` (spikes per network), ``neuron_spike_count``
    (spikes per network and neuron, ``(B, n)``: a window's counts are its difference),
    ``t`` (steps done). Recording: :meth:`spikes`, :meth:`probes`.
    """

    def __init__(self, *, dt_ms, populations, synapses: CSRSynapses, background_probability,
                 background_amplitude, population_size, seed, network_indices, dtype, rule,
                 modulators, spike_capacity, probe_neurons, probe_period_steps, probe_capacity,
                 noise_low=None, noise_high=None, triggers=(), trigger_log_capacity=10_000):
        if population_size < 1:
            raise ValueError(f"population_size must be >= 1, got {population_size}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {list(_DTYPES)}, got {dtype!r}")
        if network_indices is None:
            network_indices = list(range(population_size))
        network_indices = np.asarray(network_indices, dtype=np.int64)
        if network_indices.shape != (population_size,):
            raise ValueError(
                f"network_indices must have shape ({population_size},), got {network_indices.shape}"
            )
        if seed < 0 or network_indices.min() < 0:
            raise ValueError("seed and network_indices must be >= 0")
        names = [m.name for m in modulators]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate modulator names {names}")
        B = population_size
        n = populations[-1].stop
        self.dt_ms = dt_ms
        self.populations = populations
        self.synapses = synapses
        self.population_size = B
        self.n_neurons = n
        self.seed = int(seed)
        self.network_indices = network_indices
        self.dtype = _DTYPES[dtype]
        self.rule = rule
        self.modulators = modulators
        self.background_probability = np.array(background_probability, dtype=np.float64)
        self.background_amplitude = np.array(background_amplitude, dtype=np.float64)
        if not (np.all(self.background_probability >= 0) and np.all(self.background_probability <= 1)):
            raise ValueError("background probabilities must be in [0, 1]")
        self.t = 0
        fdt = self.dtype

        # neurons: contiguous groups by population
        self._group_model = np.array([p.model.model_id for p in populations], dtype=np.int32)
        self._group_start = np.array([p.start for p in populations], dtype=np.int64)
        self._group_stop = np.array([p.stop for p in populations], dtype=np.int64)
        params = np.zeros((n, N_NEURON_PARAMETERS))
        init = np.zeros((n, 3))
        for p in populations:
            params[p.start:p.stop] = pack_parameters(p.model, dt_ms)
            init[p.start:p.stop] = initial_state(p.model)
        # (B, parameter, neuron): the neuron loop reads each parameter contiguously
        self._nparams = _tile(params.T, (B, N_NEURON_PARAMETERS, n))
        self.v = _tile(init[:, 0], (B, n), fdt)
        self.s1 = _tile(init[:, 1], (B, n), fdt)
        self.s2 = _tile(init[:, 2], (B, n), fdt)
        self._refractory = np.zeros((B, n), dtype=np.int32)
        max_delay = int(synapses.delay.max()) if synapses.n_synapses else 1
        # one input channel unless a conductance-based population needs exc / inh apart
        channels = 2 if any(isinstance(p.model, ConductanceLIF) for p in populations) else 1
        self._input_buffer = np.zeros((B, max_delay + 1, channels, n), dtype=fdt)

        # random inputs
        self._net_keys = np.array(
            [network_key(self.seed, int(k)) for k in network_indices], dtype=np.uint64)
        self._source_prob = np.zeros((B, n))
        self._bg_amp = _tile(background_amplitude, (B, n))
        self._bg_log1m_p = _tile(np.log1p(-np.asarray(background_probability)), (B, n))
        self._bg_next = np.full((B, n), 2**62, dtype=np.int64)
        self._bg_draw = np.full((B, n), -1, dtype=np.int64)
        has_bg = np.nonzero(np.asarray(background_probability) > 0)[0]
        kernels.initial_background(self._net_keys, self._bg_log1m_p, 0, self._bg_next,
                                   self._bg_draw, has_bg.astype(np.int64))
        # uniform noise current [low, high) per neuron; the kernel only visits groups with any
        self.noise_low = np.zeros(n) if noise_low is None else np.array(noise_low, dtype=np.float64)
        self.noise_high = np.zeros(n) if noise_high is None else np.array(noise_high,
                                                                           dtype=np.float64)
        self._noise_width = self.noise_high - self.noise_low
        self._group_noise = np.array(
            [bool(np.any(self.noise_low[p.start:p.stop] != 0)
                  or np.any(self._noise_width[p.start:p.stop] != 0)) for p in populations],
            dtype=np.uint8)

        # rows whose synapses share one delay and reach consecutive neurons (all-to-all
        # projections): the kernel delivers them as one contiguous slice
        self._row_dense = _dense_rows(synapses)

        # synapses and plasticity
        plastic_rule = rule if rule is not None else _null_rule()
        self._packed = pack_rule(plastic_rule, names, dt_ms)
        S = synapses.n_synapses
        n_elig = self._packed.elig_decay.size
        # An accumulating rule (no conversions, eligibility traces that do not decay, no
        # pairing thresholds: an agent's window eligibility) keeps its eligibility out of
        # the records, in post-major order (the post -> pre index's order): a post spike
        # then adds to one contiguous run instead of one record per incoming synapse, and
        # an all-to-all projection's eligibility is a contiguous (post, pre) matrix (see
        # accumulated_eligibility). Measured on the CartPole population: the pairings
        # about 2x cheaper, the agent's trace update reading it about 2x too.
        self._accumulates = bool(
            rule is not None and self._packed.conv_elig.size == 0 and n_elig > 0
            and synapses.n_plastic > 0 and np.all(self._packed.elig_decay == 1.0)
            and not np.any(self._packed.elig_has_threshold))
        self._acc = np.zeros((B, synapses.n_plastic, n_elig) if self._accumulates else (B, 0, 0),
                             dtype=fdt)
        # where each plastic synapse's eligibility sits in _acc (pre-side pairings)
        self._acc_position = np.zeros(S if self._accumulates else 0, dtype=np.int64)
        if self._accumulates:
            self._acc_position[synapses.col_syn] = np.arange(synapses.n_plastic)
        # columns whose plastic synapses come from consecutive presynaptic neurons: a post
        # spike's pairing reads the presynaptic traces as one contiguous slice
        self._col_dense = _dense_columns(synapses)
        # packed records (w, t_last, c_0, ...), see kernels.py; (w, t_last) when accumulating
        record_elig = 0 if self._accumulates else n_elig
        self._syn = np.zeros((B, S, kernels.ELIG_COL + record_elig), dtype=fdt)
        self._syn[:, :, kernels.W_COL] = synapses.initial_weight
        synapses.initial_weight = None  # the live copy is in _syn; don't hold 8 more bytes/synapse
        self.traces = np.zeros((B, self._packed.trace_decay.size, n), dtype=fdt)
        n_conv = self._packed.conv_elig.size
        # one conversion integrates over the update period (P steps of dt)
        self._conv_gain = _tile(self._conv_step_gain(), (B, n_conv))
        # epoch table (kernels.py): per epoch step j, a_k^-j for each eligibility trace,
        # then the running conversion sums Phi_q(j) of this network
        n_elig_traces = self._packed.elig_decay.size
        self._epoch_table = np.zeros((B, self._packed.epoch_steps + 1, n_elig_traces + n_conv))
        self._epoch_table[:, :, :n_elig_traces] = self._packed.elig_inv_pow.T
        self._epoch_start = np.zeros(B, dtype=np.int64)
        self._segment_sign = np.zeros((B, n_conv), dtype=np.int8)

        # modulators
        self._mod_decay = np.array([m.decay_per_step(dt_ms) for m in modulators], dtype=np.float64)
        self.modulator_levels = _tile(np.array([m.initial for m in modulators], dtype=np.float64),
                            (B, len(modulators)))
        self._mod_pulse = _tile(np.array([m.pulse_amount for m in modulators], dtype=np.float64),
                            (B, len(modulators)))
        self._mod_period = np.array([m.pulse_period_steps for m in modulators], dtype=np.int64)
        self._mod_phase = np.array([m.pulse_phase_steps for m in modulators], dtype=np.int64)
        self._no_release = np.zeros((B, 0, len(modulators)))

        # release triggers (plasticity.ReleaseTrigger): the same for all networks
        self.triggers = tuple(triggers)
        for k, trig in enumerate(self.triggers):
            if not isinstance(trig, ReleaseTrigger):
                raise ValueError(f"triggers[{k}] must be a ReleaseTrigger, got {type(trig).__name__}")
            if trig.modulator not in names:
                raise ValueError(f"triggers[{k}] releases unknown modulator {trig.modulator!r}; "
                                 f"network modulators: {names}")
            for what, idx in (("neuron", trig.neuron), ("preceded_by", trig.preceded_by)):
                if idx is not None and idx >= n:
                    raise ValueError(f"triggers[{k}].{what} = {idx} is not a neuron (0..{n - 1})")
        if trigger_log_capacity < 0:
            raise ValueError(f"trigger_log_capacity must be >= 0, got {trigger_log_capacity}")
        tr = self.triggers
        self._trig_neuron = np.array([x.neuron for x in tr], dtype=np.int64)
        self._trig_pre = np.array([-1 if x.preceded_by is None else x.preceded_by for x in tr],
                                  dtype=np.int64)
        self._trig_within = np.array([x.within_steps for x in tr], dtype=np.int64)
        self._trig_delay_lo = np.array([x.delay_steps[0] for x in tr], dtype=np.int64)
        self._trig_delay_hi = np.array([x.delay_steps[1] for x in tr], dtype=np.int64)
        self._trig_mod = np.array([names.index(x.modulator) for x in tr], dtype=np.int64)
        self._trig_amount = np.array([x.amount for x in tr], dtype=np.float64)
        self._trig_last_pre = np.full((B, len(tr)), -(2**62), dtype=np.int64)
        self._trig_count = np.zeros((B, len(tr)), dtype=np.int64)
        # ring of releases due at step t (slot t % size); longer than the longest delay
        ring = int(self._trig_delay_hi.max()) + 1 if tr else 1
        self._scheduled = np.zeros((B, ring, len(modulators)))
        self._trig_log_steps = np.zeros((B, trigger_log_capacity), dtype=np.int64)
        self._trig_log_ids = np.zeros((B, trigger_log_capacity), dtype=np.int64)
        self._trig_log_release = np.zeros((B, trigger_log_capacity), dtype=np.int64)
        self._trig_log_written = np.zeros(B, dtype=np.int64)

        # recording
        if spike_capacity < 0 or probe_capacity < 0:
            raise ValueError("spike_capacity and probe_capacity must be >= 0")
        if probe_capacity > 0 and probe_period_steps < 1:
            raise ValueError(f"probe_period_steps must be >= 1, got {probe_period_steps}")
        probe_ids = np.asarray(probe_neurons if probe_neurons is not None else [], dtype=np.int64)
        if probe_ids.ndim != 1 or (probe_ids.size and (probe_ids.min() < 0 or probe_ids.max() >= n)):
            raise ValueError(f"probe_neurons must be 1-D indices in [0, {n - 1}]")
        self.spike_count = np.zeros(B, dtype=np.int64)
        self.neuron_spike_count = np.zeros((B, n), dtype=np.int64)
        self._spike_times = np.zeros((B, spike_capacity), dtype=np.int64)
        self._spike_ids = np.zeros((B, spike_capacity), dtype=np.int32)
        self._spike_written = np.zeros(B, dtype=np.int64)
        self._probe_ids = probe_ids.astype(np.int32)
        self._probe_period = int(max(probe_period_steps, 1))
        self._probe_times = np.zeros((B, probe_capacity), dtype=np.int64)
        self._probe_v = np.zeros((B, probe_capacity, probe_ids.size))
        self._probe_s1 = np.zeros((B, probe_capacity, probe_ids.size))
        self._probe_mod = np.zeros((B, probe_capacity, len(modulators)))
        self._probe_written = np.zeros(B, dtype=np.int64)
        self._spike_scratch = np.zeros((B, n), dtype=np.int32)

    # ------------------------------------------------------------------ running
    def run(self, n_steps: int, release: np.ndarray | None = None) -> None:
        """Advance every network by ``n_steps`` steps in one kernel call.

        ``release``: optional per-step modulator input added to the levels, shape
        ``(n_steps, n_modulators)`` (same for all networks) or
        ``(population_size, n_steps, n_modulators)``.
        """
        if isinstance(n_steps, (bool, np.bool_)) or not isinstance(n_steps, (int, np.integer)):
            raise ValueError(f"n_steps must be an int, got {n_steps!r}")  # int(2.5) would run 2
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"n_steps must be >= 0, got {n_steps}")
        n_mod = len(self.modulators)
        if release is None:
            rel = self._no_release
        else:
            rel = np.asarray(release, dtype=np.float64)
            if rel.shape == (n_steps, n_mod):
                rel = np.broadcast_to(rel, (self.population_size, n_steps, n_mod))
            if rel.shape != (self.population_size, n_steps, n_mod):
                raise ValueError(
                    f"release must have shape ({n_steps}, {n_mod}) or "
                    f"({self.population_size}, {n_steps}, {n_mod}), got {np.shape(release)}"
                )
            if not np.all(np.isfinite(rel)):
                raise ValueError("release must be finite")
            rel = np.ascontiguousarray(rel)
        if n_steps == 0:
            return
        pk = self._packed
        syn = self.synapses
        args = (
            self.t, n_steps,
            self._group_model, self._group_start, self._group_stop, self._nparams, self.v,
            self.s1, self.s2, self._refractory, self._input_buffer,
            self._net_keys, self._source_prob, self._bg_amp, self._bg_log1m_p, self._bg_next,
            self._bg_draw, self._group_noise, self.noise_low, self._noise_width,
            syn.row_ptr, self._row_dense, syn.post, syn.delay, syn.plastic_stop, syn.col_ptr,
            syn.col_syn,
            syn.col_pre, self._syn,
            pk.trace_decay, pk.trace_increment, pk.trace_set_mode, self.traces,
            pk.elig_pre_trace, pk.elig_pre_gain, pk.elig_post_trace, pk.elig_post_gain,
            pk.elig_has_threshold, pk.elig_threshold, pk.elig_threshold_mod,
            pk.elig_threshold_shift, pk.conv_elig, pk.conv_mod, self._conv_gain, pk.bounds, pk.elig_pow,
            self._epoch_table, self._epoch_start, self._segment_sign, pk.update_period_steps,
            self._mod_decay, self.modulator_levels, self._mod_pulse, self._mod_period,
            self._mod_phase, rel,
            self._trig_neuron, self._trig_pre, self._trig_within, self._trig_delay_lo,
            self._trig_delay_hi, self._trig_mod, self._trig_amount, self._trig_last_pre,
            self._trig_count, self._scheduled, self._trig_log_steps, self._trig_log_ids,
            self._trig_log_release, self._trig_log_written,
            self.spike_count, self.neuron_spike_count, self._spike_times, self._spike_ids,
            self._spike_written,
            self._probe_ids, self._probe_period, self._probe_times, self._probe_v,
            self._probe_s1, self._probe_mod, self._probe_written, self._spike_scratch,
            self._acc, self._acc_position, self._col_dense,
        )
        _for_each_network(self.population_size,
                          lambda first, stop: kernels.run_population(first, stop, *args))
        self.t += n_steps

    def flush(self) -> None:
        """Bring every plastic synapse up to date (conversions through step t-1, clipped)."""
        pk = self._packed
        args = (self.t, self._epoch_start, self.synapses.row_ptr, self.synapses.plastic_stop,
                self._syn, self._epoch_table, pk.conv_elig, pk.elig_pow, pk.bounds)
        _for_each_network(self.population_size,
                          lambda first, stop: kernels.rebase_population(first, stop, *args))
        self._segment_sign[:] = 0

    # ------------------------------------------------------------------ inputs
    def _population(self, population) -> Population:
        if isinstance(population, Population):
            return population
        for p in self.populations:
            if p.name == population:
                return p
        raise ValueError(f"unknown population {population!r}; known: "
                         f"{[p.name for p in self.populations]}")

    def set_source_probabilities(self, population, probabilities) -> None:
        """Spike probability per step of each neuron of a :class:`PoissonSource`
        population: shape ``(size,)`` (all networks) or ``(population_size, size)``."""
        pop = self._population(population)
        if not isinstance(pop.model, PoissonSource):
            raise ValueError(f"population {pop.name!r} is not a PoissonSource population")
        p = np.asarray(probabilities, dtype=np.float64)
        if p.shape not in ((pop.size,), (self.population_size, pop.size)):
            raise ValueError(
                f"probabilities for {pop.name!r} must have shape ({pop.size},) or "
                f"({self.population_size}, {pop.size}), got {p.shape}"
            )
        if not np.all((p >= 0) & (p <= 1)):
            raise ValueError("probabilities must be in [0, 1] (and not NaN)")
        self._source_prob[:, pop.start:pop.stop] = p

    @property
    def source_probabilities(self) -> np.ndarray:
        """Per-step spike probability of every neuron (non-zero only for sources), (B, n)."""
        return self._source_prob.copy()

    def set_weights(self, weights, network: int | None = None) -> None:
        """Replace the weights (CSR order; see :meth:`synapse_table`) of one or all networks.
        Plastic weights must lie inside the rule's bounds."""
        if self._packed.conv_elig.size:  # pending conversions first (an eligibility-only
            self.flush()                 # rule has none: its weights never change in here)
        w = np.asarray(weights, dtype=np.float64)
        S = self.synapses.n_synapses
        if w.shape != (S,):
            raise ValueError(f"weights must have shape ({S},), got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError("weights must be finite")
        plastic = self.synapses.plastic
        if self.rule is not None and plastic.any():
            wp = w[plastic]
            if wp.min() < self.rule.w_min or wp.max() > self.rule.w_max:
                raise ValueError("plastic weights outside the rule's bounds")
        if network is None:
            self._syn[:, :, kernels.W_COL] = w
        else:
            self._syn[self._network(network), :, kernels.W_COL] = w

    def set_neuron_model(self, population, model, network: int | None = None) -> None:
        """Give one network (or all) of the population different parameters for the neurons
        of ``population``: a parameter variant. ``model`` must be of the population's model
        type (the update loop is chosen per population). Before the first step the
        membrane state is also reset to ``model``'s initial state; later it is kept."""
        pop = self._population(population)
        if type(model) is not type(pop.model):
            raise ValueError(
                f"population {pop.name!r} is {type(pop.model).__name__}; got "
                f"{type(model).__name__}")
        rows = slice(None) if network is None else self._network(network)
        self._nparams[rows, :, pop.start:pop.stop] = pack_parameters(model, self.dt_ms)[:, None]
        if self.t == 0:
            v0, s1_0, s2_0 = initial_state(model)
            self.v[rows, pop.start:pop.stop] = v0
            self.s1[rows, pop.start:pop.stop] = s1_0
            self.s2[rows, pop.start:pop.stop] = s2_0

    def set_modulator_pulse(self, modulator: str, amount: float, network: int | None = None) -> None:
        """Amount of the scheduled pulse of ``modulator`` (see :class:`Modulator`) for one
        network or all."""
        names = [m.name for m in self.modulators]
        if modulator not in names:
            raise ValueError(f"unknown modulator {modulator!r}; known: {names}")
        if not math.isfinite(amount):
            raise ValueError(f"pulse amount must be finite, got {amount!r}")
        rows = slice(None) if network is None else self._network(network)
        self._mod_pulse[rows, names.index(modulator)] = amount

    def set_learning_rate_scale(self, scale) -> None:
        """Per-network factor on every conversion gain, shape () or (population_size,)."""
        s = np.asarray(scale, dtype=np.float64)
        if s.shape not in ((), (self.population_size,)) or not np.all(np.isfinite(s)):
            raise ValueError(f"scale must be finite with shape () or ({self.population_size},)")
        self.flush()
        self._conv_gain[:] = self._conv_step_gain()[None, :] * np.reshape(s, (-1, 1))

    def _conv_step_gain(self) -> np.ndarray:
        """Gain of one conversion: rule gain x dt x update period (steps)."""
        pk = self._packed
        return pk.conv_gain * self.dt_ms * pk.update_period_steps

    def _network(self, b: int) -> int:
        if not 0 <= b < self.population_size:
            raise ValueError(f"network index {b} out of range [0, {self.population_size})")
        return int(b)

    # ------------------------------------------------------------------ reading
    def weights(self) -> np.ndarray:
        """Copy of the weights, shape ``(population_size, n_synapses)``, flushed first."""
        self.flush()
        return self._syn[:, :, kernels.W_COL].copy()

    def eligibility(self) -> np.ndarray:
        """Copy of the eligibility traces ``(population_size, n_elig, n_synapses)`` as of
        the end of the last step (flushed first)."""
        self.flush()
        # after a flush c holds its value decayed into the NEXT step (pre-increment), so
        # undo one decay step to report c at the end of step t-1.
        if self._accumulates:  # nothing decays, nothing is pending: the sums themselves
            elig = np.zeros((self.population_size, self._acc.shape[2], self.synapses.n_synapses),
                            dtype=self.dtype)
            elig[:, :, self.synapses.col_syn] = np.moveaxis(self._acc, 2, 1)
            return elig
        decay = self._packed.elig_decay[None, :, None]
        elig = np.moveaxis(self._syn[:, :, kernels.ELIG_COL:], 2, 1).astype(np.float64)
        return (elig / decay).astype(self.dtype)

    def synapse_table(self) -> dict[str, np.ndarray]:
        """``pre``, ``post``, ``delay``, ``plastic`` of every synapse, in CSR order."""
        s = self.synapses
        return {"pre": s.pre, "post": s.post.astype(np.int64), "delay": s.delay.astype(np.int64),
                "plastic": s.plastic}

    def spikes(self, network: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``(steps, neuron_ids)`` of the recorded spikes of one network, oldest first
        (the last ``spike_capacity`` spikes)."""
        b = self._network(network)
        cap = self._spike_times.shape[1]
        order = _ring_order(int(self._spike_written[b]), cap)
        return self._spike_times[b, order], self._spike_ids[b, order].astype(np.int64)

    def trigger_events(self, network: int = 0) -> dict[str, np.ndarray]:
        """Firings of the release triggers of one network, oldest first (the last
        ``trigger_log_capacity``): ``steps`` (when the trigger fired), ``trigger`` (its index
        in ``triggers``), ``release_steps`` (when its release is added). ``counts``: total
        firings per trigger since the start (never truncated)."""
        b = self._network(network)
        cap = self._trig_log_steps.shape[1]
        order = _ring_order(int(self._trig_log_written[b]), cap)
        return {
            "steps": self._trig_log_steps[b, order],
            "trigger": self._trig_log_ids[b, order],
            "release_steps": self._trig_log_release[b, order],
            "counts": self._trig_count[b].copy(),
        }

    def probes(self, network: int = 0) -> dict[str, np.ndarray]:
        """Sampled state (oldest first): ``steps``, ``v`` and ``s1`` (second state variable:
        u / I_syn / g_exc) of the probed neurons, and ``modulators``."""
        b = self._network(network)
        cap = self._probe_times.shape[1]
        order = _ring_order(int(self._probe_written[b]), cap)
        return {
            "steps": self._probe_times[b, order],
            "v": self._probe_v[b, order],
            "s1": self._probe_s1[b, order],
            "modulators": self._probe_mod[b, order],
            "neurons": self._probe_ids.astype(np.int64),
        }

    def state_dict(self) -> dict[str, np.ndarray]:
        """All mutable state as numpy arrays (flushed first); see :meth:`load_state_dict`."""
        self.flush()
        return {k: np.array(getattr(self, k), copy=True) for k in self._STATE}

    def load_state_dict(self, state: dict) -> None:
        missing = [k for k in self._STATE if k not in state]
        if missing:  # checked up front: a KeyError half-way would leave a half-loaded state
            raise ValueError(f"state lacks {missing}")
        values = {}
        for k in self._STATE:  # every key checked before any is written: never half-loaded
            current = getattr(self, k)
            value = np.asarray(state[k])
            if np.shape(current) != value.shape:
                raise ValueError(f"state {k!r}: expected shape {np.shape(current)}, got {value.shape}")
            expected = current.dtype if isinstance(current, np.ndarray) else np.asarray(current).dtype
            try:
                value = value.astype(expected, casting="same_kind")
            except TypeError:
                raise ValueError(f"state {k!r}: expected {expected} values, "
                                 f"got {value.dtype}") from None
            values[k] = value
        for k, value in values.items():
            current = getattr(self, k)
            if isinstance(current, np.ndarray):
                current[...] = value
            else:
                setattr(self, k, value.item())

    # ------------------------------------------------------------------ population helpers
    # Used by agents that run one copy of their network per environment (a population):
    # per-window work on all networks at once, without a Python loop over networks and
    # without the full-state copies of state_dict / load_state_dict.
    _NEURON_STATE = ("v", "s1", "s2", "_refractory", "_input_buffer")

    def neuron_state(self, traces: bool = False) -> dict[str, np.ndarray]:
        """Copy of the neuron state of every network (membranes ``v``, second variables
        ``s1`` / ``s2``, refractory counters, pending synaptic input, and with
        ``traces=True`` the rule's neuron traces); a snapshot for
        :meth:`restore_neuron_state`. Synapses, clock and noise are not in it."""
        keys = self._NEURON_STATE + (("traces",) if traces else ())
        return {k: getattr(self, k).copy() for k in keys}

    def restore_neuron_state(self, snapshot: dict[str, np.ndarray], networks) -> None:
        """Put the neuron state of the networks selected by the boolean mask ``networks``
        (shape ``(population_size,)``) back to ``snapshot`` (from :meth:`neuron_state`).

        Everything else goes on: clock, noise streams, weights, plasticity, traces and
        modulators, and the other networks. Equivalent to overwriting those keys of a
        :meth:`state_dict` and loading it back, without copying the whole state."""
        mask = np.asarray(networks, dtype=bool)
        if mask.shape != (self.population_size,):
            raise ValueError(f"networks must be a boolean mask of shape "
                             f"({self.population_size},), got {mask.shape}")
        for k in self._NEURON_STATE + (("traces",) if "traces" in snapshot else ()):
            value = np.asarray(snapshot[k])
            current = getattr(self, k)
            if value.shape != current.shape:
                raise ValueError(f"snapshot {k!r}: expected shape {current.shape}, "
                                 f"got {value.shape}")
            current[mask] = value[mask]

    def set_shared_weights(self, weights, clear_accumulated_eligibility: bool = False) -> None:
        """The same weights (CSR order, shape ``(n_synapses,)``) for every network.

        :meth:`set_weights` for the case an agent calls once per env step: no flush when
        nothing converts (nothing is pending then), no bound check when the bounds are
        infinite or nothing is plastic, and one kernel pass over the records (numpy's
        strided assignment cost several times more, measured).
        ``clear_accumulated_eligibility``: then what :meth:`clear_accumulated_eligibility`
        does (the start of an agent's window)."""
        w = np.asarray(weights, dtype=np.float64)
        if self._packed.conv_elig.size and self.synapses.n_plastic:
            self.set_weights(w)
            if clear_accumulated_eligibility:
                self.clear_accumulated_eligibility()
            return
        if w.shape != (self.synapses.n_synapses,):
            raise ValueError(f"weights must have shape ({self.synapses.n_synapses},), "
                             f"got {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("weights must be finite")
        if self.synapses.n_plastic and np.isfinite(self._packed.bounds).any():
            wp = w[self.synapses.plastic]
            if wp.min() < self.rule.w_min or wp.max() > self.rule.w_max:
                raise ValueError("plastic weights outside the rule's bounds")
        kernels.fill_records(self._syn, kernels.W_COL, w)
        if clear_accumulated_eligibility:
            self.clear_accumulated_eligibility()

    def accumulated_eligibility(self, trace: int = 0) -> np.ndarray:
        """Live, writable view ``(population_size, n_plastic)`` of eligibility trace ``trace``
        of an accumulating rule (no conversions, no pairing thresholds, eligibility traces
        that do not decay: ``tau_ms = inf``): the running sum of its pairings since it was
        last set, e.g. to 0 before a window (exact between runs: nothing is lazy about it).
        Lets an agent that applies its own three-factor update read a window's eligibility
        without a copy. The order is post-major, the post -> pre index's
        (``synapses.col_syn``: entry ``p`` is the synapse ``col_syn[p]`` in CSR order), so the
        eligibility of an all-to-all projection of ``n_pre`` inputs onto ``n_post`` neurons,
        when it is the only plastic one, reshapes to a contiguous ``(population_size,
        n_post, n_pre)`` array. :meth:`eligibility` gives it in CSR order (a copy).
        ValueError for any other rule."""
        if not self._accumulates or not 0 <= trace < self._acc.shape[2]:
            raise ValueError(f"accumulated_eligibility needs a rule without conversions or "
                             f"pairing thresholds whose eligibility traces do not decay "
                             f"(tau_ms=inf), and trace {trace} among them")
        return self._acc[:, :, trace]

    def clear_accumulated_eligibility(self, trace: int | None = None) -> None:
        """Set :meth:`accumulated_eligibility` of every network to 0: trace ``trace``, or
        every trace (None)."""
        if trace is None:
            self.accumulated_eligibility(0)  # checks the rule
            self._acc[...] = 0.0
        else:
            self.accumulated_eligibility(trace)[...] = 0.0

    def spike_raster(self, since: int, out: np.ndarray | None = None,
                     spike_count_before: np.ndarray | None = None) -> np.ndarray:
        """Spikes of every network at steps ``since .. t-1`` as a 0/1 array of shape
        ``(population_size, t - since, n_neurons)`` (float64 unless ``out`` is given;
        ``out`` of that shape is zeroed and filled). Reads the spike record of all networks
        at once; ValueError if the record (``spike_capacity``) may have dropped some.

        ``spike_count_before``: optional copy of :attr:`spike_count` taken at step
        ``since``; then only the newest part of the record is read (faster than scanning
        the whole record for spike times >= ``since``)."""
        since = int(since)
        steps = self.t - since
        if since < 0 or steps < 0:
            raise ValueError(f"since must lie in [0, t={self.t}], got {since}")
        B = self.population_size
        shape = (B, steps, self.n_neurons)
        if out is None:
            out = np.zeros(shape)
        elif out.shape != shape:
            raise ValueError(f"out must have shape {shape}, got {out.shape}")
        else:
            out[...] = 0
        cap = self._spike_times.shape[1]
        if cap == 0 or steps == 0:
            if cap == 0 and steps:
                raise ValueError("the network records no spikes (spike_capacity=0)")
            return out
        written = self._spike_written
        times = self._spike_times
        too_small = ValueError("the spike record is too small for this window: build the "
                               "network with a larger spike_capacity")
        if spike_count_before is not None:
            new = self.spike_count - np.asarray(spike_count_before, dtype=np.int64)
            if new.shape != (B,) or np.any(new < 0):
                raise ValueError(f"spike_count_before must be a copy of spike_count (shape "
                                 f"({B},)) taken at step {since}")
            if np.any(new > cap):
                raise too_small
            # the newest ``new[b]`` records of network b, oldest first (a ring buffer)
            total = int(new.sum())
            network = np.repeat(np.arange(B), new)
            offset = np.arange(total) - np.repeat(np.cumsum(new) - new, new)
            slot = (np.repeat(written - new, new) + offset) % cap
        else:
            kept = (np.arange(cap)[None, :] < written[:, None]) & (times >= since)
            wrapped = written > cap
            if wrapped.any():
                # a full ring: complete only if its oldest spike predates ``since``
                oldest = times[np.nonzero(wrapped)[0], written[wrapped] % cap]
                if np.any(oldest >= since):
                    raise too_small
            network, slot = np.nonzero(kept)
        step = times[network, slot] - since
        if step.size and step.min() < 0:
            raise ValueError(f"spike_count_before was not taken at step {since}")
        out[network, step, self._spike_ids[network, slot]] = 1
        return out

    _STATE = ("t", "v", "s1", "s2", "_refractory", "_input_buffer", "_bg_next", "_bg_draw",
              "_syn", "_acc", "traces", "_epoch_table", "_epoch_start", "_segment_sign",
              "modulator_levels", "spike_count", "neuron_spike_count", "_source_prob", "_trig_last_pre", "_trig_count",
              "_scheduled")

    def memory_bytes(self) -> dict:
        """Memory of the synapse arrays (indices + state, all networks).

        ``per_plastic_synapse``: bytes one plastic synapse costs in one network (its slot in
        every per-synapse array, its post -> pre entries, and its share of the per-neuron
        row pointers); ``per_synapse``: all synapse arrays divided by all synapses.
        """
        s = self.synapses
        B = self.population_size
        per_syn = s.post.itemsize + s.delay.itemsize + self._syn.shape[2] * self._syn.itemsize
        per_plastic_extra = s.col_syn.itemsize + s.col_pre.itemsize
        if self._accumulates:  # the eligibility outside the records, and where it sits
            per_syn += self._acc_position.itemsize
            per_plastic_extra += self._acc.shape[2] * self._acc.itemsize
        pointers = s.row_ptr.nbytes + s.plastic_stop.nbytes + s.col_ptr.nbytes
        total = sum(a.nbytes for a in (s.post, s.delay, s.col_syn, s.col_pre, self._syn,
                                       self._acc, self._acc_position)) + pointers
        n_syn = max(s.n_synapses, 1)
        return {
            "total": int(total),
            "n_synapses": s.n_synapses,
            "n_plastic": s.n_plastic,
            "per_synapse": total / (n_syn * B),
            "per_plastic_synapse": per_syn + per_plastic_extra + pointers / n_syn,
        }
