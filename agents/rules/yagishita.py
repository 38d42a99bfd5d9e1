"""Yagishita et al. (2014) timing: dopamine effective 0.3-2 s AFTER the pairing, not before.

Finding encoded: in striatal spiny projection neurons, spine enlargement after
glutamate uncaging paired with postsynaptic spikes needed dopamine (optogenetic release)
arriving 0.3-2 s after the pairing; DA before the pairing or at 0 s, or several seconds
later, did not work (Yagishita, Hayashi-Takagi, Ellis-Davies, Urakubo, Ishii & Kasai
2014, Science 345:1616-1620). The window comes from a slow intracellular cascade, so the
eligibility here has a RISE time: a difference of exponentials (two engine traces with
the same increments, converted with gains +K and -K)::

    x_pre <- a x_pre + A (pre spike)
    c_slow, c_fast <- decay with tau_decay, tau_rise ;  post spike: both += x_pre[i]
    c_eff(t) = K (c_slow - c_fast) = K A' (exp(-t/tau_decay) - exp(-t/tau_rise))
    dw/dt   = eta DA(t) c_eff(t)

``K`` normalises the peak of ``exp(-t/tau_decay) - exp(-t/tau_rise)`` to 1, so eta
has the same meaning as in R-STDP. ``c_eff(0) = 0``: DA at the pairing finds nothing to
convert; the peak is at ``t* = ln(tau_d/tau_r) tau_d tau_r / (tau_d - tau_r)`` (~0.83 s
for the defaults tau_rise = 700 ms, tau_decay = 1000 ms: model choices that reproduce the
reported window with DA kinetics tau_DA = 200 ms). Only the pre-before-post pairing of the
experiment is modelled (no LTD term).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import Conversion, EligibilityTrace, NeuronTrace, PlasticityRule

__all__ = ["YagishitaParams", "rise_decay_peak"]


def rise_decay_peak(rise_tau_ms: float, decay_tau_ms: float) -> tuple[float, float]:
    """``(t_peak_ms, peak)`` of ``exp(-t/decay) - exp(-t/rise)``."""
    t = math.log(decay_tau_ms / rise_tau_ms) * decay_tau_ms * rise_tau_ms / (
        decay_tau_ms - rise_tau_ms)
    return t, math.exp(-t / decay_tau_ms) - math.exp(-t / rise_tau_ms)


@dataclass(frozen=True)
class YagishitaParams(RuleParams):
    """Yagishita et al. (2014) preset; see the module docstring."""

    amplitude: float = 0.1
    stdp_tau_ms: float = 20.0
    eligibility_rise_tau_ms: float = 700.0
    eligibility_decay_tau_ms: float = 1000.0
    learning_rate: float = 0.01
    w_min: float = 0.0
    w_max: float = 4.0
    modulator: str = "DA"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.eligibility_rise_tau_ms < self.eligibility_decay_tau_ms:
            raise ValueError(
                f"YagishitaParams.eligibility_rise_tau_ms ({self.eligibility_rise_tau_ms}) "
                f"must be < eligibility_decay_tau_ms ({self.eligibility_decay_tau_ms})")

    def build(self) -> PlasticityRule:
        _, peak = rise_decay_peak(self.eligibility_rise_tau_ms, self.eligibility_decay_tau_ms)
        gain = self.learning_rate / peak
        return PlasticityRule(
            name="yagishita",
            neuron_traces=(NeuronTrace("pre", self.stdp_tau_ms, self.amplitude),),
            eligibility_traces=(
                EligibilityTrace("cascade_slow", self.eligibility_decay_tau_ms,
                                 on_pre_trace=None, on_post_trace="pre"),
                EligibilityTrace("cascade_fast", self.eligibility_rise_tau_ms,
                                 on_pre_trace=None, on_post_trace="pre"),
            ),
            conversions=(Conversion("cascade_slow", self.modulator, gain),
                         Conversion("cascade_fast", self.modulator, -gain)),
            w_min=self.w_min, w_max=self.w_max, decay="exact")
