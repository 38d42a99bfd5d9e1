"""Neuron models of the spiking engine: parameter dataclasses and their packing.

Every model is a frozen dataclass whose field names carry their units. The kernel
(:mod:`agents.snn.kernels`) never sees these objects: :func:`pack_parameters` turns a
model into one row of per-neuron constants (propagators precomputed for the step
``dt_ms``), and the model's integer id selects the update loop.

Input convention shared by all models: everything that arrives at neuron ``i`` during
step ``t`` (synaptic deliveries whose delay ends at ``t``, background current pulses) is
summed per channel, excitatory (weight >= 0) and inhibitory (weight < 0), and applied at
the start of step ``t``. Current-based models add both channels to one input current;
the conductance-based LIF routes them to separate conductances.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "PoissonSource",
    "Izhikevich",
    "LIF",
    "ConductanceLIF",
    "IZHIKEVICH_PRESETS",
    "izhikevich_preset",
    "MODEL_SOURCE",
    "MODEL_IZHIKEVICH",
    "MODEL_LIF",
    "MODEL_CONDUCTANCE_LIF",
    "N_NEURON_PARAMETERS",
    "pack_parameters",
]

# Model ids used by the kernel to select an update loop for a contiguous neuron group.
MODEL_SOURCE = 0
MODEL_IZHIKEVICH = 1
MODEL_LIF = 2
MODEL_CONDUCTANCE_LIF = 3
# Width of the packed per-neuron parameter row (the widest model uses all of it).
N_NEURON_PARAMETERS = 10


def _check_finite(obj) -> None:
    """Refuse NaN / infinite parameters, naming the offending field."""
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ValueError(
                    f"{type(obj).__name__}.{f.name} must be finite, got {value!r}"
                )


def _check_positive(obj, *names: str, allow_zero: bool = False) -> None:
    for name in names:
        value = getattr(obj, name)
        if value < 0 or (value == 0 and not allow_zero):
            bound = ">= 0" if allow_zero else "> 0"
            raise ValueError(f"{type(obj).__name__}.{name} must be {bound}, got {value!r}")


@dataclass(frozen=True)
class PoissonSource:
    """Input neuron without membrane dynamics: a Bernoulli spike source.

    At every step ``t`` neuron ``i`` spikes with probability ``p_i`` (set per run from an
    encoder, :meth:`agents.snn.Network.set_source_probabilities`), i.e. a discretised
    Poisson process of rate ``p_i / dt``. The draw is ``u(seed, network, t, i) < p_i``
    with the counter-based generator of :mod:`agents.snn.rng`. Incoming synapses are
    allowed but have no effect on the spikes.
    """

    model_id = MODEL_SOURCE

    def __post_init__(self) -> None:
        _check_finite(self)


@dataclass(frozen=True)
class Izhikevich:
    """Izhikevich (2003) simple model.

    Equations (time in ms, ``I`` in the model's dimensionless current units)::

        dv/dt = 0.04 v^2 + 5 v + 140 - u + I
        du/dt = a (b v - u)
        if v >= v_peak_mV:  v <- c_mV,  u <- u + d

    Integration over one step ``dt``:

    * ``integration="euler"`` (default): forward Euler, both derivatives evaluated at the
      old ``(v, u)``: ``v' = v + dt f(v, u, I)``, ``u' = u + dt a (b v - u)``.
    * ``integration="half_steps"``: as in Izhikevich (2003, 2007) code: ``v`` advanced by
      two Euler half-steps of ``dt/2`` with the same ``u`` and ``I``, then
      ``u' = u + dt a (b v' - u)`` with the NEW ``v'``.

    Spike detection and reset follow the integration of the step: a neuron whose updated
    ``v`` reaches ``v_peak_mV`` spikes at that step and is reset at once. ``I`` is the sum
    of the inputs arriving during the step (synaptic weights plus background pulses), held
    for the whole step. Initial state: ``v = v_init_mV``, ``u = b v_init_mV``.

    Parameters: ``a_per_ms`` (recovery rate, 1/ms), ``b`` (sensitivity of u to v,
    dimensionless), ``c_mV`` (reset potential), ``d`` (after-spike increment of u),
    ``v_peak_mV`` (spike cut-off, 30 mV), ``v_init_mV``.

    Reference: E. M. Izhikevich (2003), Simple model of spiking neurons, IEEE Trans.
    Neural Networks 14:1569; presets from Izhikevich (2004), Which model to use for
    cortical spiking neurons?, IEEE TNN 15:1063.
    """

    a_per_ms: float = 0.02
    b: float = 0.2
    c_mV: float = -65.0
    d: float = 8.0
    v_peak_mV: float = 30.0
    v_init_mV: float = -65.0
    integration: str = "euler"

    model_id = MODEL_IZHIKEVICH

    def __post_init__(self) -> None:
        _check_finite(self)
        _check_positive(self, "a_per_ms")
        if self.integration not in ("euler", "half_steps"):
            raise ValueError(
                "Izhikevich.integration must be 'euler' or 'half_steps', "
                f"got {self.integration!r}"
            )
        if self.c_mV >= self.v_peak_mV:
            raise ValueError(
                f"Izhikevich.c_mV ({self.c_mV}) must be below v_peak_mV ({self.v_peak_mV})"
            )


# Izhikevich (2003/2004) presets: (a, b, c, d).
IZHIKEVICH_PRESETS: dict[str, Izhikevich] = {
    "RS": Izhikevich(0.02, 0.2, -65.0, 8.0),  # regular spiking (excitatory cortex)
    "IB": Izhikevich(0.02, 0.2, -55.0, 4.0),  # intrinsically bursting
    "CH": Izhikevich(0.02, 0.2, -50.0, 2.0),  # chattering
    "FS": Izhikevich(0.1, 0.2, -65.0, 2.0),  # fast spiking (inhibitory)
    "LTS": Izhikevich(0.02, 0.25, -65.0, 2.0),  # low-threshold spiking
    "TC": Izhikevich(0.02, 0.25, -65.0, 0.05),  # thalamo-cortical
    "RZ": Izhikevich(0.1, 0.26, -65.0, 2.0),  # resonator
}


def izhikevich_preset(name: str, **overrides) -> Izhikevich:
    """Return the named Izhikevich preset, optionally with some fields replaced."""
    try:
        base = IZHIKEVICH_PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown Izhikevich preset {name!r}; known: {sorted(IZHIKEVICH_PRESETS)}"
        ) from None
    if not overrides:
        return base
    values = {f.name: getattr(base, f.name) for f in fields(base)}
    values.update(overrides)
    return Izhikevich(**values)


@dataclass(frozen=True)
class LIF:
    """Leaky integrate-and-fire neuron with exponentially decaying input current.

    Equations (NEST ``iaf_psc_exp`` form)::

        tau_m dv/dt = (v_rest - v) + R I_syn
        tau_syn dI_syn/dt = -I_syn
        on input of weight w (nA):  I_syn <- I_syn + w
        if v >= v_thresh_mV: spike, v <- v_reset_mV, clamped for refractory_ms

    Integration: exact (the linear system is solved over one step). The input arriving
    during step ``t`` is added to ``I_syn`` at the start of the step, then
    ``v' = v_rest + (v - v_rest) e^{-dt/tau_m} + P I_syn`` with
    ``P = R tau_syn / (tau_syn - tau_m) (e^{-dt/tau_syn} - e^{-dt/tau_m})``
    (``R dt/tau_m e^{-dt/tau_m}`` when ``tau_syn == tau_m``), ``I_syn' = I_syn e^{-dt/tau_syn}``.
    During the refractory period ``v`` is held at ``v_reset_mV`` (the current keeps
    decaying and accumulating). Initial state ``v = v_rest_mV``, ``I_syn = 0``.

    Reference: S. Rotter & M. Diesmann (1999), Exact digital simulation of time-invariant
    linear systems with applications to neuronal modeling, Biol. Cybern. 81:381.
    """

    tau_m_ms: float = 20.0
    tau_syn_ms: float = 5.0
    v_rest_mV: float = -70.0
    v_reset_mV: float = -70.0
    v_thresh_mV: float = -50.0
    refractory_ms: float = 2.0
    r_m_Mohm: float = 100.0

    model_id = MODEL_LIF

    def __post_init__(self) -> None:
        _check_finite(self)
        _check_positive(self, "tau_m_ms", "tau_syn_ms", "r_m_Mohm")
        _check_positive(self, "refractory_ms", allow_zero=True)
        if self.v_reset_mV >= self.v_thresh_mV:
            raise ValueError(
                f"LIF.v_reset_mV ({self.v_reset_mV}) must be below v_thresh_mV "
                f"({self.v_thresh_mV})"
            )


@dataclass(frozen=True)
class ConductanceLIF:
    """Leaky integrate-and-fire neuron with conductance-based input.

    Equations (conductances in units of the leak conductance, so dimensionless)::

        tau_m dv/dt = (v_rest - v) + g_exc (E_exc - v) + g_inh (E_inh - v)
        tau_exc dg_exc/dt = -g_exc ;  tau_inh dg_inh/dt = -g_inh
        on input of weight w:  g_exc <- g_exc + w (w >= 0),  g_inh <- g_inh - w (w < 0)
        if v >= v_thresh_mV: spike, v <- v_reset_mV, clamped for refractory_ms

    Integration: exponential Euler. Inputs of the step are added to the conductances at
    its start; with the conductances frozen over the step the membrane equation is linear
    and is solved exactly: ``v' = v_inf + (v - v_inf) exp(-dt (1 + g_exc + g_inh) / tau_m)``
    with ``v_inf = (v_rest + g_exc E_exc + g_inh E_inh) / (1 + g_exc + g_inh)``; then the
    conductances decay exactly by ``exp(-dt/tau)``. Refractoriness and the initial state
    as in :class:`LIF`.

    Reference: e.g. R. Brette et al. (2007), Simulation of networks of spiking neurons: a
    review of tools and strategies, J. Comput. Neurosci. 23:349 (COBA benchmark).
    """

    tau_m_ms: float = 20.0
    tau_exc_ms: float = 5.0
    tau_inh_ms: float = 10.0
    v_rest_mV: float = -60.0
    v_reset_mV: float = -60.0
    v_thresh_mV: float = -50.0
    e_exc_mV: float = 0.0
    e_inh_mV: float = -80.0
    refractory_ms: float = 5.0

    model_id = MODEL_CONDUCTANCE_LIF

    def __post_init__(self) -> None:
        _check_finite(self)
        _check_positive(self, "tau_m_ms", "tau_exc_ms", "tau_inh_ms")
        _check_positive(self, "refractory_ms", allow_zero=True)
        if self.v_reset_mV >= self.v_thresh_mV:
            raise ValueError(
                f"ConductanceLIF.v_reset_mV ({self.v_reset_mV}) must be below "
                f"v_thresh_mV ({self.v_thresh_mV})"
            )


NeuronModel = PoissonSource | Izhikevich | LIF | ConductanceLIF


def initial_state(model: NeuronModel) -> tuple[float, float, float]:
    """Initial (v, second, third) state variables of one neuron of ``model``."""
    if isinstance(model, Izhikevich):
        return model.v_init_mV, model.b * model.v_init_mV, 0.0
    if isinstance(model, (LIF, ConductanceLIF)):
        return model.v_rest_mV, 0.0, 0.0
    return 0.0, 0.0, 0.0


def pack_parameters(model: NeuronModel, dt_ms: float) -> np.ndarray:
    """Per-neuron constant row read by the kernel for ``model`` at step ``dt_ms``.

    Layout per model (unused slots are zero):

    * Izhikevich: a, b, c, d, v_peak, dt, half_steps (0/1)
    * LIF: exp(-dt/tau_m), current-to-voltage propagator P, exp(-dt/tau_syn), v_rest,
      v_reset, v_thresh, refractory steps
    * ConductanceLIF: dt/tau_m, v_rest, v_reset, v_thresh, refractory steps, E_exc,
      E_inh, exp(-dt/tau_exc), exp(-dt/tau_inh)
    """
    row = np.zeros(N_NEURON_PARAMETERS, dtype=np.float64)
    if isinstance(model, Izhikevich):
        row[:7] = (
            model.a_per_ms,
            model.b,
            model.c_mV,
            model.d,
            model.v_peak_mV,
            dt_ms,
            1.0 if model.integration == "half_steps" else 0.0,
        )
    elif isinstance(model, LIF):
        decay_m = math.exp(-dt_ms / model.tau_m_ms)
        decay_syn = math.exp(-dt_ms / model.tau_syn_ms)
        if model.tau_syn_ms == model.tau_m_ms:
            propagator = model.r_m_Mohm * dt_ms / model.tau_m_ms * decay_m
        else:
            propagator = (
                model.r_m_Mohm
                * model.tau_syn_ms
                / (model.tau_syn_ms - model.tau_m_ms)
                * (decay_syn - decay_m)
            )
        row[:7] = (
            decay_m,
            propagator,
            decay_syn,
            model.v_rest_mV,
            model.v_reset_mV,
            model.v_thresh_mV,
            round(model.refractory_ms / dt_ms),
        )
    elif isinstance(model, ConductanceLIF):
        row[:9] = (
            dt_ms / model.tau_m_ms,
            model.v_rest_mV,
            model.v_reset_mV,
            model.v_thresh_mV,
            round(model.refractory_ms / dt_ms),
            model.e_exc_mV,
            model.e_inh_mV,
            math.exp(-dt_ms / model.tau_exc_ms),
            math.exp(-dt_ms / model.tau_inh_ms),
        )
    elif not isinstance(model, PoissonSource):
        raise TypeError(f"unknown neuron model {type(model).__name__}")
    return row
