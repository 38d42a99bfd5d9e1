"""R-STDP with an eligibility trace (Izhikevich 2007) and the plain exponential preset.

Equations (one synapse i -> j, time in ms)::

    x_pre  <- a_stdp x_pre ;  + A+  on a pre spike       (pre trace, tau_stdp)
    x_post <- a_stdp x_post ; + A-  on a post spike      (post trace, tau_stdp, A- < 0)
    c      <- a_c c ;  pre spike: c += x_post[j] ;  post spike: c += x_pre[i]
    dw/dt  = DA(t) c(t),    w clipped to [w_min, w_max]

with ``a = 1 - dt/tau`` (``decay="euler"``, the paper's code) or ``exp(-dt/tau)``.
The sign of ``c`` means the STDP direction: > 0 pre-before-post (LTP when DA > 0).
Parameters (units): ``a_plus``, ``a_minus`` (eligibility per pairing, weight units per DA
unit per ms), ``stdp_tau_ms`` (STDP window, ms), ``eligibility_tau_ms`` (tau_c, ms),
``w_min`` / ``w_max`` (weight bounds), ``modulator`` (engine name of the third factor).
Defaults: the engine's Workload W (increments 0.1 / -0.12, tau 20 ms, tau_c = 1 s,
bounds [0, 4]). The DA concentration itself comes from
:func:`agents.neuromodulators.dopamine` (tau_DA = 200 ms).

Reference: E. M. Izhikevich (2007), Solving the distal reward problem through linkage of
STDP and dopamine signaling, Cerebral Cortex 17:2443-2452.

Timing (the "exponential" preset): with the eligibility jump at t = 0 and one DA pulse
``A exp(-(t-d)/tau_DA)`` at delay ``d``, ``dw(d)/dw(0) = exp(-d/tau_c)`` for d >= 0 and
``exp(d/tau_DA)`` for d < 0 (DA must follow the pairing; before it, only its decaying tail
overlaps the eligibility). With ``decay="exact"`` the discrete engine reproduces these
ratios exactly (geometric sums).
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import PlasticityRule, izhikevich2007_rstdp

__all__ = ["RSTDPParams", "ExponentialTimingParams"]


@dataclass(frozen=True)
class RSTDPParams(RuleParams):
    """R-STDP (Izhikevich 2007); see the module docstring."""

    a_plus: float = 0.1
    a_minus: float = -0.12
    stdp_tau_ms: float = 20.0
    eligibility_tau_ms: float = 1000.0
    w_min: float = 0.0
    w_max: float = 4.0
    modulator: str = "DA"
    decay: str = "euler"

    def build(self) -> PlasticityRule:
        # One home for the Izhikevich rule: the engine's own constructor.
        rule = izhikevich2007_rstdp(
            a_plus=self.a_plus, a_minus=self.a_minus, stdp_tau_ms=self.stdp_tau_ms,
            eligibility_tau_ms=self.eligibility_tau_ms, w_min=self.w_min, w_max=self.w_max,
            modulator=self.modulator, decay=self.decay)
        return rule


@dataclass(frozen=True)
class ExponentialTimingParams(RSTDPParams):
    """Plain exponential timing preset: R-STDP with exact exponential decays (the DoD
    reference case: dw(d)/dw(0) = exp(-d/tau_c), exp(d/tau_DA))."""

    decay: str = "exact"

    def build(self) -> PlasticityRule:
        from dataclasses import replace
        return replace(super().build(), name="exponential")
