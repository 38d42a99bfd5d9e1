"""MSTDP and MSTDP-ET (Florian 2007): reward-modulated STDP without / with eligibility.

Equations (Florian 2007, Neural Computation 19:1468, Sec. 3), synapse i -> j::

    P+ <- a_+ P+ ; + A+ on a pre spike          (tau_+ = 20 ms)
    P- <- a_- P- ; + A- on a post spike         (tau_- = 20 ms, A- < 0)
    zeta(t) = P+(t) Phi_j(t) + P-(t) Psi_i(t)    (Phi: post spike train, Psi: pre spike train)
    MSTDP:     dw/dt = gamma r(t) zeta(t)
    MSTDP-ET:  tau_z dz/dt = -z + zeta(t),   dw/dt = gamma r(t) z(t)   (tau_z = 25 ms)

so in MSTDP-ET a spike pairing makes ``z`` jump by ``zeta / tau_z`` and the weight follows
``gamma r z``. Defaults from the paper: A+ = 1, A- = -1, tau_+ = tau_- = 20 ms,
tau_z = 25 ms; the learning rate ``gamma`` (Florian tunes it per experiment; default
0.01) and the bounds are the user's. ``r`` is the reward itself (``modulator="DA"``; feed
reward or an RPE through :mod:`agents.neuromodulators`).

Closed form (tested): pre spike at 0, post at Delta > 0, constant r from the post spike
on: ``w(t) - w(0) = gamma r A+ exp(-Delta/tau_+) (1 - exp(-(t - Delta)/tau_z))``.

MSTDP is the limit tau_z -> 0 of MSTDP-ET (z -> zeta, a delta at each spike). The
engine keeps eligibility for whole steps, so MSTDP is represented by an eligibility that
lives one step: ``tau = dt/40`` (residual exp(-40) per step) and increments that make the
step's weight change exactly ``gamma r zeta``: ``dw = dt * (gamma/dt) * r * zeta``. That
needs the step ``dt_ms`` at build time (a parameter).
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import Conversion, EligibilityTrace, NeuronTrace, PlasticityRule

__all__ = ["MSTDPETParams", "MSTDPParams"]

# One-step eligibility for MSTDP: exp(-40) ~ 4e-18 of a step's zeta survives to the next.
_ONE_STEP_DECAYS = 40.0


@dataclass(frozen=True)
class MSTDPETParams(RuleParams):
    """MSTDP-ET (Florian 2007); see the module docstring."""

    a_plus: float = 1.0
    a_minus: float = -1.0
    tau_plus_ms: float = 20.0
    tau_minus_ms: float = 20.0
    eligibility_tau_ms: float = 25.0
    learning_rate: float = 0.01
    w_min: float = 0.0
    w_max: float = 1.0
    modulator: str = "DA"

    def build(self) -> PlasticityRule:
        inv = 1.0 / self.eligibility_tau_ms  # tau_z dz/dt = -z + zeta: jump zeta / tau_z
        return PlasticityRule(
            name="mstdp_et",
            neuron_traces=(NeuronTrace("p_plus", self.tau_plus_ms, self.a_plus),
                           NeuronTrace("p_minus", self.tau_minus_ms, self.a_minus)),
            eligibility_traces=(EligibilityTrace(
                "z", self.eligibility_tau_ms, on_pre_trace="p_minus", on_post_trace="p_plus",
                on_pre_gain=inv, on_post_gain=inv),),
            conversions=(Conversion("z", self.modulator, self.learning_rate),),
            w_min=self.w_min, w_max=self.w_max, decay="exact")


@dataclass(frozen=True)
class MSTDPParams(RuleParams):
    """MSTDP (Florian 2007): ``dw = gamma r zeta`` at each pairing step; see module doc."""

    a_plus: float = 1.0
    a_minus: float = -1.0
    tau_plus_ms: float = 20.0
    tau_minus_ms: float = 20.0
    learning_rate: float = 0.01
    w_min: float = 0.0
    w_max: float = 1.0
    dt_ms: float = 1.0
    modulator: str = "DA"

    def build(self) -> PlasticityRule:
        return PlasticityRule(
            name="mstdp",
            neuron_traces=(NeuronTrace("p_plus", self.tau_plus_ms, self.a_plus),
                           NeuronTrace("p_minus", self.tau_minus_ms, self.a_minus)),
            eligibility_traces=(EligibilityTrace(
                "zeta", self.dt_ms / _ONE_STEP_DECAYS, on_pre_trace="p_minus",
                on_post_trace="p_plus"),),
            conversions=(Conversion("zeta", self.modulator, self.learning_rate / self.dt_ms),),
            w_min=self.w_min, w_max=self.w_max, decay="exact")
