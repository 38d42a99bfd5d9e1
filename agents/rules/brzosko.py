"""Sequential ACh-then-DA plasticity with a symmetric trace (Brzosko et al. 2015, 2017).

Findings encoded: in hippocampal CA1 slices, post-before-pre pairing gives t-LTD, and
cholinergic (muscarinic) activation during pairing biases both orders toward depression;
dopamine present during or applied shortly AFTER the pairing converts it into t-LTP
(Brzosko, Schultz & Paulsen 2015, eLife 4:e09685; Brzosko, Zannone, Schultz, Clopath &
Paulsen 2017, eLife 6:e27756, whose navigation model uses a symmetric STDP window, ACh
-> depression during exploration, DA at reward -> potentiation).

Equations, synapse i -> j::

    x_pre  <- a x_pre  + A  on a pre spike ;  x_post <- a x_post + A on a post spike
    c      <- a_e c ;  pre spike: c += x_post[j] ;  post spike: c += x_pre[i]
             (symmetric: c > 0 means "a coincidence happened", whatever the order)
    dw/dt  = eta (g_DA DA(t) - g_ACh ACh(t)) c(t)

Parameters: ``amplitude`` (A, per pairing), ``stdp_tau_ms`` (symmetric window, 10 ms:
model choice), ``eligibility_tau_ms`` (tau_e = 2 s: model choice on the behavioural time
scale of the 2017 model; slice windows of the 2015 paper are minutes), ``learning_rate``
(eta, weight per unit modulator per unit eligibility per ms), ``ach_depression_gain``
(g_ACh), ``da_potentiation_gain`` (g_DA), bounds.

Calibration of the defaults: with the protocol of the tests (20 post-before-pre pairings
at 1 Hz, -20 ms, ACh bath 1.0 during the pairings, w = 1) ACh alone gives about -10 %;
DA (bath 1.0 for 1 s) right after the pairings turns it into about +19 %. The conversion
window: the DA contribution falls as exp(-delay/tau_e) with the delay after the last
pairing (documented window tau_e = 2 s; exact when no ACh is left to boost the DA
learning rate, a little steeper right after an ACh bath); beyond ~3 s the depression
stays.
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import Conversion, EligibilityTrace, NeuronTrace, PlasticityRule

__all__ = ["SequentialNeuromodulationParams"]


@dataclass(frozen=True)
class SequentialNeuromodulationParams(RuleParams):
    """Brzosko et al. (2015, 2017) ACh-then-DA rule; see the module docstring."""

    amplitude: float = 1.0
    stdp_tau_ms: float = 10.0
    eligibility_tau_ms: float = 2000.0
    learning_rate: float = 2e-5
    ach_depression_gain: float = 1.0
    da_potentiation_gain: float = 40.0
    w_min: float = 0.0
    w_max: float = 2.0
    dopamine: str = "DA"
    acetylcholine: str = "ACh"

    def build(self) -> PlasticityRule:
        return PlasticityRule(
            name="brzosko",
            neuron_traces=(NeuronTrace("pre", self.stdp_tau_ms, self.amplitude),
                           NeuronTrace("post", self.stdp_tau_ms, self.amplitude)),
            eligibility_traces=(EligibilityTrace(
                "coincidence", self.eligibility_tau_ms, on_pre_trace="post",
                on_post_trace="pre"),),
            conversions=(
                Conversion("coincidence", self.acetylcholine,
                           -self.learning_rate * self.ach_depression_gain),
                Conversion("coincidence", self.dopamine,
                           self.learning_rate * self.da_potentiation_gain),
            ),
            w_min=self.w_min, w_max=self.w_max, decay="exact")
