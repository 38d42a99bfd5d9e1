"""Priming / metaplasticity: modulation shortly BEFORE a pairing lowers its LTP threshold.

Finding encoded: metaplasticity, "the plasticity of synaptic plasticity" (Abraham & Bear
1996, Trends Neurosci 19:126): prior activity or neuromodulation shifts the threshold of
later plasticity; e.g. beta-adrenergic activation shortly before a weak stimulus lets it
induce lasting LTP that it cannot induce alone (Gelinas & Nguyen 2005, J Neurosci
25:3294), and the priming wears off with the interval.

Equations, synapse i -> j::

    x_pre <- a x_pre + A  on a pre spike                         (tau_stdp = 20 ms)
    theta(t) = theta_0 - k P(t)                                   LTP threshold
    c <- a_c c ;  post spike: c += max(0, x_pre[i] - theta(t))    (rectified pairing)
    dw/dt = eta DA(t) c(t)

``P`` is the priming state (:func:`agents.neuromodulators.priming_state`: a pulse of the
priming modulator sets it, it decays with tau_prime = 10 s by default). A single
pre-before-post pairing at +10 ms reads ``x = A exp(-1/2) = 0.61 A`` < ``theta_0 = 0.8 A``
and leaves no eligibility (too weak); a burst of pairings that sums the trace above
theta_0 potentiates on its own (it is a threshold, not a gate); priming of amount P0 at
``d`` before the weak pairing makes it potentiate while ``P0 exp(-d/tau_prime) > (theta_0 -
x) / k``, with ``dw`` linear in ``exp(-d/tau_prime)`` above that: the effect decays with
the priming delay along tau_prime. The third factor (DA) converts as in R-STDP.

Parameters: ``amplitude`` (A), ``stdp_tau_ms``, ``ltp_threshold`` (theta_0, trace
units; model choice 0.8 A), ``threshold_shift_per_unit`` (k), ``eligibility_tau_ms``
(tau_c = 1 s as Izhikevich 2007), ``learning_rate`` (eta), bounds, modulator names.
Needs the engine's pairing threshold (:class:`agents.snn.EligibilityTrace`); registered in
:data:`agents.rules.RULES` once the engine has it.
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import Conversion, EligibilityTrace, NeuronTrace, PlasticityRule

__all__ = ["PrimingParams"]


@dataclass(frozen=True)
class PrimingParams(RuleParams):
    """Priming (metaplastic LTP threshold shift); see the module docstring."""

    amplitude: float = 1.0
    stdp_tau_ms: float = 20.0
    ltp_threshold: float = 0.8
    threshold_shift_per_unit: float = 1.0
    eligibility_tau_ms: float = 1000.0
    learning_rate: float = 0.01
    w_min: float = 0.0
    w_max: float = 4.0
    dopamine: str = "DA"
    priming: str = "priming"

    def build(self) -> PlasticityRule:
        return PlasticityRule(
            name="priming",
            neuron_traces=(NeuronTrace("pre", self.stdp_tau_ms, self.amplitude),),
            eligibility_traces=(EligibilityTrace(
                "ltp", self.eligibility_tau_ms, on_pre_trace=None, on_post_trace="pre",
                pairing_threshold=self.ltp_threshold, threshold_modulator=self.priming,
                threshold_shift_per_unit=self.threshold_shift_per_unit),),
            conversions=(Conversion("ltp", self.dopamine, self.learning_rate),),
            w_min=self.w_min, w_max=self.w_max, decay="exact")
