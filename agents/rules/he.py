"""Dual LTP / LTD eligibility traces converted by NE and 5-HT (He et al. 2015).

Findings encoded: in visual and prefrontal cortex slices, a Hebbian pairing alone leaves
the synapse unchanged but sets a transient eligibility trace; pre-before-post pairing
sets an LTP trace that noradrenaline (beta-adrenergic) converts into LTP, post-before-pre
an LTD trace that serotonin (5-HT2C) converts into LTD, if the monoamine arrives within
seconds (He, Huertas, Hong, Tie, Hell, Shouval & Kirkwood 2015, Neuron 88:528-538).

Equations, synapse i -> j::

    x_pre  <- a x_pre  + A  (pre spike) ;  x_post <- a x_post + A  (post spike)
    c_LTP  <- a_LTP c_LTP ;  post spike: c_LTP += x_pre[i]      (pre-before-post)
    c_LTD  <- a_LTD c_LTD ;  pre spike:  c_LTD += x_post[j]     (post-before-pre)
    dw/dt  = eta (g_NE NE(t) c_LTP(t) - g_5HT 5HT(t) c_LTD(t))

Both traces are positive magnitudes; the sign comes from the conversion. Parameters:
``amplitude`` (A), ``stdp_tau_ms`` (20 ms), ``ltp_trace_tau_ms`` (5 s) and
``ltd_trace_tau_ms`` (2.5 s): trace lifetimes of order seconds as reported (model
choices: conversion falls to exp(-2) at ~10 s for LTP and ~5 s for LTD), ``learning_rate``
(eta), ``ne_gain``, ``serotonin_gain`` (calibrated so that 20 pairings at 1 Hz, +-10 ms,
followed at once by a 1 unit, 5 s bath of the modulator give about +27 % / -26 % from
w = 1, the order of the changes reported), bounds.
Conversion window: the change falls as exp(-delay/tau_trace) with the modulator delay.
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import Conversion, EligibilityTrace, NeuronTrace, PlasticityRule

__all__ = ["DualTraceParams"]


@dataclass(frozen=True)
class DualTraceParams(RuleParams):
    """He et al. (2015) dual traces; see the module docstring."""

    amplitude: float = 1.0
    stdp_tau_ms: float = 20.0
    ltp_trace_tau_ms: float = 5000.0
    ltd_trace_tau_ms: float = 2500.0
    learning_rate: float = 3e-5
    ne_gain: float = 1.0
    serotonin_gain: float = 3.0
    w_min: float = 0.0
    w_max: float = 2.0
    norepinephrine: str = "NE"
    serotonin: str = "5HT"

    def build(self) -> PlasticityRule:
        return PlasticityRule(
            name="he",
            neuron_traces=(NeuronTrace("pre", self.stdp_tau_ms, self.amplitude),
                           NeuronTrace("post", self.stdp_tau_ms, self.amplitude)),
            eligibility_traces=(
                EligibilityTrace("ltp", self.ltp_trace_tau_ms, on_pre_trace=None,
                                 on_post_trace="pre"),
                EligibilityTrace("ltd", self.ltd_trace_tau_ms, on_pre_trace="post",
                                 on_post_trace=None),
            ),
            conversions=(
                Conversion("ltp", self.norepinephrine, self.learning_rate * self.ne_gain),
                Conversion("ltd", self.serotonin, -self.learning_rate * self.serotonin_gain),
            ),
            w_min=self.w_min, w_max=self.w_max, decay="exact")
