"""Plasticity rules as data, and the neuromodulators that gate them.

A rule is not code: it is a small table that one generic kernel runs
(:func:`agents.snn.kernels.run_population`). It says

* which per-neuron spike traces exist (:class:`NeuronTrace`: time constant, what a spike
  adds, whether a spike adds to or resets the trace);
* which per-synapse eligibility traces exist (:class:`EligibilityTrace`: time constant,
  which neuron trace of the OTHER side a pre / post spike adds to it, with what gain);
* which modulator converts which eligibility trace into weight change, with what gain
  (:class:`Conversion`), and the hard weight bounds.

Semantics of one step ``t`` for a plastic synapse ``s`` from ``i`` to ``j`` (the order is
the engine's; see :mod:`agents.snn.network` for the whole step)::

    x_r      <- a_r x_r                       every neuron trace r (decay)
    c_k      <- a_k c_k                       every eligibility trace k (decay)
    pre spike of i:   c_k <- c_k + g_pre_k  * x_{pre_trace_k}[j]      (decayed, before this
    post spike of j:  c_k <- c_k + g_post_k * x_{post_trace_k}[i]      step's increments;
                      (x replaced by max(0, x - theta_k(t)) with a pairing threshold)
    spikes:   x_r[n] <- x_r[n] + inc_r   (mode "add")  or  inc_r  (mode "set")
    w <- clip(w + dt * sum_conv gain_conv * M_{mod_conv}(t) * c_{elig_conv}, w_min, w_max)

With ``weight_update_period_ms = P dt`` (P steps) the last line only runs at steps
``t % P == 0`` and integrates over the whole period: ``w <- clip(w + P dt sum_conv ...)``
(Izhikevich 2007's code updates the weights every 10 ms); between updates the weights
do not change.

Decay factors are ``a = exp(-dt/tau)`` (``decay="exact"``) or ``1 - dt/tau``
(``decay="euler"``). An eligibility trace reads a neuron trace index, so a rule's sign
conventions live in the increments and gains: for Izhikevich (2007) the post trace
increments by A- < 0 and is read on pre spikes (LTD), the pre trace increments by A+ > 0
and is read on post spikes (LTP).

Clipping semantics (defined once, implemented by the lazy kernel and matched by the
reference): weight bounds are applied whenever a synapse is brought up to date, i.e.
when a spike touches it, and at a full flush, which happens whenever the sign of any
``gain * M`` changes, at every epoch rebase, and before any read or save of weights.
For a rule with one eligibility trace whose conversions all have ``gain * M`` of one
sign at a time (the Izhikevich 2007 rule, Workload W, also with a tonic conversion) the
weight path between two updates is monotone, so this EQUALS clipping at every (update)
step; the reference in ``tests/reference`` therefore clips at every update step. Rules whose contributions can have opposite signs between touches (two
eligibility traces converted with opposite signs) are defined by the touch-time
semantics.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "NeuronTrace",
    "EligibilityTrace",
    "Conversion",
    "PlasticityRule",
    "Modulator",
    "ReleaseTrigger",
    "decay_factor",
    "izhikevich2007_rstdp",
    "izhikevich2007_dopamine",
    "PackedRule",
    "pack_rule",
]

CONSTANT = "constant"  # eligibility input that is 1 instead of a neuron trace


def decay_factor(tau_ms: float, dt_ms: float, decay: str) -> float:
    """Per-step decay factor: ``exp(-dt/tau)`` or ``1 - dt/tau``; ``tau = inf`` -> 1."""
    if math.isinf(tau_ms):
        return 1.0
    if decay == "exact":
        return math.exp(-dt_ms / tau_ms)
    return 1.0 - dt_ms / tau_ms


def _check_tau(owner: str, name: str, tau_ms: float, allow_zero: bool = False) -> None:
    if math.isnan(tau_ms) or tau_ms < 0 or (tau_ms == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{owner}.{name} must be {bound} (ms), got {tau_ms!r}")


def _check_finite(owner: str, name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{owner}.{name} must be finite, got {value!r}")


@dataclass(frozen=True)
class NeuronTrace:
    """Per-neuron spike trace ``x``: decays by ``a = decay(tau_ms)`` each step; a spike of
    the neuron adds ``increment`` (``mode="add"``, all-to-all pairing) or sets the trace
    to ``increment`` (``mode="set"``, nearest-spike pairing)."""

    name: str
    tau_ms: float
    increment: float
    mode: str = "add"

    def __post_init__(self) -> None:
        _check_tau("NeuronTrace", "tau_ms", self.tau_ms)
        _check_finite("NeuronTrace", "increment", self.increment)
        if self.mode not in ("add", "set"):
            raise ValueError(f"NeuronTrace.mode must be 'add' or 'set', got {self.mode!r}")


@dataclass(frozen=True)
class EligibilityTrace:
    """Per-synapse eligibility ``c``: decays by ``a = decay(tau_ms)`` each step.

    On a presynaptic spike ``c += on_pre_gain * x[post]`` where ``x`` is the neuron trace
    named ``on_pre_trace`` (``"constant"`` reads 1, ``None`` means no change); on a
    postsynaptic spike ``c += on_post_gain * x[pre]`` with ``on_post_trace``.

    Pairing threshold (metaplasticity, optional): with ``pairing_threshold`` set, both
    pairings add ``gain * max(0, x - theta(t))`` instead of ``gain * x``, where
    ``theta(t) = pairing_threshold - threshold_shift_per_unit * M(t)`` and ``M`` is the level
    of ``threshold_modulator`` at the step (no modulator: ``theta`` is constant). A
    pairing whose trace stays below the threshold leaves no eligibility; prior modulation
    lowers the threshold (Abraham & Bear 1996).
    """

    name: str
    tau_ms: float
    on_pre_trace: str | None
    on_post_trace: str | None
    on_pre_gain: float = 1.0
    on_post_gain: float = 1.0
    pairing_threshold: float | None = None
    threshold_modulator: str | None = None
    threshold_shift_per_unit: float = 0.0

    def __post_init__(self) -> None:
        _check_tau("EligibilityTrace", "tau_ms", self.tau_ms)
        _check_finite("EligibilityTrace", "on_pre_gain", self.on_pre_gain)
        _check_finite("EligibilityTrace", "on_post_gain", self.on_post_gain)
        if self.pairing_threshold is not None:
            _check_finite("EligibilityTrace", "pairing_threshold", self.pairing_threshold)
        _check_finite("EligibilityTrace", "threshold_shift_per_unit",
                      self.threshold_shift_per_unit)
        if self.threshold_modulator is not None and self.pairing_threshold is None:
            raise ValueError(
                f"EligibilityTrace {self.name!r}: threshold_modulator needs a pairing_threshold")


@dataclass(frozen=True)
class Conversion:
    """``dw/dt += gain * M_modulator(t) * c_eligibility(t)``."""

    eligibility: str
    modulator: str
    gain: float = 1.0

    def __post_init__(self) -> None:
        _check_finite("Conversion", "gain", self.gain)


@dataclass(frozen=True)
class PlasticityRule:
    """A three-factor rule as data (see the module docstring for its semantics).

    ``weight_update_period_ms``: ``None`` converts eligibility into weight at every step;
    a multiple ``P dt`` of the step converts only at steps ``t % P == 0``, over the whole
    period (see the module docstring)."""

    name: str
    neuron_traces: tuple[NeuronTrace, ...]
    eligibility_traces: tuple[EligibilityTrace, ...]
    conversions: tuple[Conversion, ...]
    w_min: float
    w_max: float
    decay: str = "exact"
    weight_update_period_ms: float | None = None

    def __post_init__(self) -> None:
        if self.weight_update_period_ms is not None:
            _check_tau("PlasticityRule", "weight_update_period_ms", self.weight_update_period_ms)
            _check_finite("PlasticityRule", "weight_update_period_ms",
                          self.weight_update_period_ms)
        if math.isnan(self.w_min) or math.isnan(self.w_max):
            raise ValueError("PlasticityRule.w_min / w_max must not be NaN")
        if self.w_min > self.w_max:
            raise ValueError(
                f"PlasticityRule bounds inverted: w_min={self.w_min} > w_max={self.w_max}"
            )
        if self.decay not in ("exact", "euler"):
            raise ValueError(f"PlasticityRule.decay must be 'exact' or 'euler', got {self.decay!r}")
        names = [t.name for t in self.neuron_traces]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate neuron trace names in {names}")
        if not self.eligibility_traces:
            raise ValueError("PlasticityRule needs at least one eligibility trace")
        enames = [e.name for e in self.eligibility_traces]
        if len(set(enames)) != len(enames):
            raise ValueError(f"duplicate eligibility trace names in {enames}")
        for e in self.eligibility_traces:
            for ref in (e.on_pre_trace, e.on_post_trace):
                if ref is not None and ref != CONSTANT and ref not in names:
                    raise ValueError(
                        f"eligibility trace {e.name!r} reads unknown neuron trace {ref!r}; "
                        f"known: {names}"
                    )
        for c in self.conversions:
            if c.eligibility not in enames:
                raise ValueError(
                    f"conversion reads unknown eligibility trace {c.eligibility!r}; known: {enames}"
                )


@dataclass(frozen=True)
class Modulator:
    """A neuromodulator level ``M`` driven inside the engine, one scalar per network.

    Each step ``M <- a M + pulse(t) + release[t]`` with ``a = decay(tau_ms)`` (``tau_ms = 0``
    gives ``a = 0``: ``M`` is exactly the value supplied for the step, e.g. a TD error
    computed outside), ``pulse(t) = pulse_amount`` when ``t >= pulse_phase_steps`` and
    ``(t - pulse_phase_steps) % pulse_period_steps == 0`` (no pulses when the period is 0),
    and ``release`` an optional per-step array passed to ``Network.run``. ``M`` is signed
    here; :mod:`agents.neuromodulators` (issue 4) builds concentrations on top of it.
    """

    name: str
    tau_ms: float
    pulse_amount: float = 0.0
    pulse_period_steps: int = 0
    pulse_phase_steps: int = 0
    decay: str = "exact"
    initial: float = 0.0

    def __post_init__(self) -> None:
        _check_tau("Modulator", "tau_ms", self.tau_ms, allow_zero=True)
        _check_finite("Modulator", "pulse_amount", self.pulse_amount)
        _check_finite("Modulator", "initial", self.initial)
        if self.pulse_period_steps < 0 or self.pulse_phase_steps < 0:
            raise ValueError("Modulator pulse period / phase must be >= 0 steps")
        if self.decay not in ("exact", "euler"):
            raise ValueError(f"Modulator.decay must be 'exact' or 'euler', got {self.decay!r}")

    def decay_per_step(self, dt_ms: float) -> float:
        if self.tau_ms == 0:
            return 0.0
        return decay_factor(self.tau_ms, dt_ms, self.decay)


@dataclass(frozen=True)
class ReleaseTrigger:
    """A modulator release scheduled inside the engine by a spike (a reward contingency).

    At step ``t``, after the neurons are updated: if ``neuron`` spiked at ``t`` and either
    ``preceded_by`` is ``None`` (every spike counts, e.g. a stimulus-onset neuron) or
    ``preceded_by``'s most recent spike was at ``t_pre`` with
    ``1 <= t - t_pre <= within_steps`` (a pre-before-post pairing; a spike of both at the
    same step does not count), the trigger fires: ``amount`` is added to ``modulator`` at
    step ``t + delay`` (in step 1, like ``release``), with ``delay`` drawn uniformly from
    ``delay_steps = (lo, hi)`` (inclusive, ``lo >= 1``) by the counter-based generator
    (:mod:`agents.snn.rng`: keyed by seed, network, trigger index and firing count). Any
    number of releases can be pending. Neuron indices are global (``Population.start`` +
    offset). The check costs a scan of the step's spike list per trigger, nothing per
    synapse, and nothing at all without triggers.

    Example (Izhikevich 2007, Fig. 1): ``ReleaseTrigger("DA", 0.5, neuron=post,
    preceded_by=pre, within_steps=19, delay_steps=(1001, 3000))``: a spike of ``post``
    1-19 ms after one of ``pre`` is rewarded 1-3 s later.
    """

    modulator: str
    amount: float
    neuron: int
    delay_steps: tuple[int, int]
    preceded_by: int | None = None
    within_steps: int = 0

    def __post_init__(self) -> None:
        _check_finite("ReleaseTrigger", "amount", self.amount)
        if int(self.neuron) != self.neuron or self.neuron < 0:
            raise ValueError(f"ReleaseTrigger.neuron must be an index >= 0, got {self.neuron!r}")
        try:
            lo, hi = (int(x) for x in self.delay_steps)
        except (TypeError, ValueError):
            raise ValueError(
                f"ReleaseTrigger.delay_steps must be a (lo, hi) pair of steps, got "
                f"{self.delay_steps!r}") from None
        if lo != self.delay_steps[0] or hi != self.delay_steps[1] or lo < 1 or hi < lo:
            raise ValueError(
                f"ReleaseTrigger.delay_steps must be integers 1 <= lo <= hi, got "
                f"{self.delay_steps!r}")
        if self.preceded_by is None:
            if self.within_steps != 0:
                raise ValueError("ReleaseTrigger.within_steps needs preceded_by")
        else:
            if int(self.preceded_by) != self.preceded_by or self.preceded_by < 0:
                raise ValueError(
                    f"ReleaseTrigger.preceded_by must be an index >= 0, got {self.preceded_by!r}")
            if self.preceded_by == self.neuron:
                raise ValueError("ReleaseTrigger.preceded_by must differ from neuron")
            if int(self.within_steps) != self.within_steps or self.within_steps < 1:
                raise ValueError(
                    f"ReleaseTrigger.within_steps must be an integer >= 1 with preceded_by, "
                    f"got {self.within_steps!r}")


def izhikevich2007_rstdp(
    a_plus: float = 0.1,
    a_minus: float = -0.12,
    stdp_tau_ms: float = 20.0,
    eligibility_tau_ms: float = 1000.0,
    w_min: float = 0.0,
    w_max: float = 4.0,
    modulator: str = "DA",
    decay: str = "euler",
    trace_mode: str = "add",
    gain_per_ms: float = 1.0,
    weight_update_period_ms: float | None = None,
    tonic_modulator: str | None = None,
) -> PlasticityRule:
    """Dopamine-modulated STDP with an eligibility trace (Izhikevich 2007).

    Equations (per step, ``decay="euler"`` factors ``1 - dt/tau`` as in the paper's code)::

        x_pre  <- (1 - dt/tau_stdp) x_pre  + A+  on a pre spike   (trace_mode "add";
        x_post <- (1 - dt/tau_stdp) x_post + A-  on a post spike   "set": x <- A)
        c      <- (1 - dt/tau_c) c ;  pre spike: c += x_post[j] ; post spike: c += x_pre[i]
        w      <- clip(w + gain dt c (DA + DA_tonic), w_min, w_max)

    ``DA_tonic`` is the level of ``tonic_modulator`` (a second conversion; none by
    default); with ``weight_update_period_ms`` the last line runs once per period over
    the whole period (see :class:`PlasticityRule`). Defaults are Workload W's: A+ = 0.1,
    A- = -0.12, tau_stdp = 20 ms, tau_c = 1000 ms, bounds [0, 4], gain 1 per ms, every
    step. The paper's own code (``daspnet.m``) is A+ = 0.1, A- = -0.15, nearest-spike
    traces (``trace_mode="set"``), ``w += (0.002 + DA) c`` every 10 ms, i.e.
    ``gain_per_ms=0.1``, ``weight_update_period_ms=10`` and a tonic modulator at 0.002
    (see ``scripts/reproduce/izhikevich_2007_distal_reward.py``).

    Reference: E. M. Izhikevich (2007), Solving the distal reward problem through linkage
    of STDP and dopamine signaling, Cerebral Cortex 17:2443.
    """
    conversions = [Conversion("eligibility", modulator, gain_per_ms)]
    if tonic_modulator is not None:
        conversions.append(Conversion("eligibility", tonic_modulator, gain_per_ms))
    return PlasticityRule(
        name="rstdp",
        neuron_traces=(
            NeuronTrace("pre_ltp", stdp_tau_ms, a_plus, mode=trace_mode),
            NeuronTrace("post_ltd", stdp_tau_ms, a_minus, mode=trace_mode),
        ),
        eligibility_traces=(
            EligibilityTrace(
                "eligibility", eligibility_tau_ms, on_pre_trace="post_ltd", on_post_trace="pre_ltp"
            ),
        ),
        conversions=tuple(conversions),
        w_min=w_min,
        w_max=w_max,
        decay=decay,
        weight_update_period_ms=weight_update_period_ms,
    )


def izhikevich2007_dopamine(
    tau_ms: float = 200.0, pulse_amount: float = 0.5, pulse_period_steps: int = 1000
) -> Modulator:
    """Workload W's dopamine: decays by ``1 - dt/200 ms``, +0.5 every 1000 steps from t = 0."""
    return Modulator(
        "DA", tau_ms, pulse_amount=pulse_amount, pulse_period_steps=pulse_period_steps, decay="euler"
    )


# Largest growth allowed for a^(-j) inside one epoch before a forced flush + rebase; it
# bounds the cancellation error of Phi(t) - Phi(t0) at about 1e6 * 1e-16 relative.
MAX_EPOCH_GROWTH = 1e6
MAX_EPOCH_STEPS = 2048  # keeps the epoch table of Workload W's rule at 32 KB (L1)


@dataclass
class PackedRule:
    """Arrays the kernel reads; built by :func:`pack_rule`."""

    trace_decay: np.ndarray
    trace_increment: np.ndarray
    trace_set_mode: np.ndarray
    elig_decay: np.ndarray
    elig_pre_trace: np.ndarray
    elig_pre_gain: np.ndarray
    elig_post_trace: np.ndarray
    elig_post_gain: np.ndarray
    elig_has_threshold: np.ndarray
    elig_threshold: np.ndarray
    elig_threshold_mod: np.ndarray
    elig_threshold_shift: np.ndarray
    conv_elig: np.ndarray
    conv_mod: np.ndarray
    conv_gain: np.ndarray
    bounds: np.ndarray
    epoch_steps: int
    update_period_steps: int
    elig_pow: np.ndarray = field(repr=False)
    elig_inv_pow: np.ndarray = field(repr=False)


def _trace_index(ref: str | None, names: list[str]) -> int:
    if ref is None:
        return -2
    if ref == CONSTANT:
        return -1
    return names.index(ref)


def pack_rule(rule: PlasticityRule, modulator_names: list[str], dt_ms: float) -> PackedRule:
    """Turn ``rule`` into kernel arrays; validate that decays are usable at ``dt_ms``."""
    names = [t.name for t in rule.neuron_traces]
    trace_decay = np.array(
        [decay_factor(t.tau_ms, dt_ms, rule.decay) for t in rule.neuron_traces], dtype=np.float64
    )
    elig_decay = np.array(
        [decay_factor(e.tau_ms, dt_ms, rule.decay) for e in rule.eligibility_traces],
        dtype=np.float64,
    )
    for obj, a in zip(list(rule.neuron_traces) + list(rule.eligibility_traces),
                      list(trace_decay) + list(elig_decay)):
        if not 0.0 < a <= 1.0:
            raise ValueError(
                f"trace {obj.name!r}: tau_ms={obj.tau_ms} gives decay factor {a} per step of "
                f"{dt_ms} ms; need 0 < factor <= 1 (euler decay needs tau_ms > dt_ms)"
            )
    enames = [e.name for e in rule.eligibility_traces]
    update_period_steps = 1
    if rule.weight_update_period_ms is not None:
        update_period_steps = round(rule.weight_update_period_ms / dt_ms)
        if update_period_steps < 1 or abs(update_period_steps * dt_ms
                                           - rule.weight_update_period_ms) > 1e-9 * dt_ms:
            raise ValueError(
                f"rule {rule.name!r}: weight_update_period_ms={rule.weight_update_period_ms} "
                f"must be a whole number (>= 1) of steps of {dt_ms} ms")
    for e in rule.eligibility_traces:
        if e.threshold_modulator is not None and e.threshold_modulator not in modulator_names:
            raise ValueError(
                f"eligibility trace {e.name!r} shifts its threshold with unknown modulator "
                f"{e.threshold_modulator!r}; network modulators: {modulator_names}"
            )
    for c in rule.conversions:
        if c.modulator not in modulator_names:
            raise ValueError(
                f"rule {rule.name!r} converts with unknown modulator {c.modulator!r}; "
                f"network modulators: {modulator_names}"
            )
    # Epoch length: a^(-j) must stay below MAX_EPOCH_GROWTH for the slowest-decaying
    # usable factor... i.e. the fastest decay limits the epoch.
    a_min = float(elig_decay.min())
    if a_min >= 1.0:
        epoch = MAX_EPOCH_STEPS
    else:
        epoch = int(min(MAX_EPOCH_STEPS, math.log(MAX_EPOCH_GROWTH) / -math.log(a_min)))
    epoch = max(epoch, 1)
    j = np.arange(epoch + 1, dtype=np.float64)
    elig_pow = elig_decay[:, None] ** j[None, :]
    elig_inv_pow = 1.0 / elig_pow
    return PackedRule(
        trace_decay=trace_decay,
        trace_increment=np.array([t.increment for t in rule.neuron_traces], dtype=np.float64),
        trace_set_mode=np.array([t.mode == "set" for t in rule.neuron_traces], dtype=np.uint8),
        elig_decay=elig_decay,
        elig_pre_trace=np.array(
            [_trace_index(e.on_pre_trace, names) for e in rule.eligibility_traces], dtype=np.int32
        ),
        elig_pre_gain=np.array([e.on_pre_gain for e in rule.eligibility_traces], dtype=np.float64),
        elig_post_trace=np.array(
            [_trace_index(e.on_post_trace, names) for e in rule.eligibility_traces], dtype=np.int32
        ),
        elig_post_gain=np.array([e.on_post_gain for e in rule.eligibility_traces], dtype=np.float64),
        elig_has_threshold=np.array(
            [e.pairing_threshold is not None for e in rule.eligibility_traces], dtype=np.uint8),
        elig_threshold=np.array(
            [e.pairing_threshold or 0.0 for e in rule.eligibility_traces], dtype=np.float64),
        elig_threshold_mod=np.array(
            [-1 if e.threshold_modulator is None else modulator_names.index(e.threshold_modulator)
             for e in rule.eligibility_traces], dtype=np.int32),
        elig_threshold_shift=np.array(
            [e.threshold_shift_per_unit for e in rule.eligibility_traces], dtype=np.float64),
        conv_elig=np.array([enames.index(c.eligibility) for c in rule.conversions], dtype=np.int32),
        conv_mod=np.array([modulator_names.index(c.modulator) for c in rule.conversions],
                          dtype=np.int32),
        conv_gain=np.array([c.gain for c in rule.conversions], dtype=np.float64),
        bounds=np.array([rule.w_min, rule.w_max], dtype=np.float64),
        epoch_steps=epoch,
        update_period_steps=int(update_period_steps),
        elig_pow=elig_pow,
        elig_inv_pow=elig_inv_pow,
    )
