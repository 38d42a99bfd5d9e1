"""TD-LTP (Fremaux, Sprekeler & Gerstner 2013): TD error x filtered pre-post coincidence.

Equations (Fremaux et al. 2013, PLoS Comput Biol 9:e1003024, "TD-LTP"), synapse i -> j::

    eps * X_i (t) = sum_pre [exp(-s/tau_m) - exp(-s/tau_s)]     PSP-filtered pre train
    e_ij(t)      = kappa * (Y_j . (eps * X_i))                   post spikes sample it,
                                                                 kappa: exp(-t/tau_e)
    dw_ij/dt     = eta delta_TD(t) e_ij(t)

Only the potentiating (pre-before-post) coincidence enters ("LTP"); a negative TD error
turns it into depression. Engine data: two pre traces (tau_m, tau_s), two eligibility
traces read at post spikes, converted with gains +eta and -eta, so their difference is
exactly kappa * (Y . (eps * X)). The TD error is computed by the critic outside and passed
per step (``Modulator(name, tau_ms=0)`` + ``release``).

Parameters: ``psp_tau_ms`` (tau_m = 20 ms) and ``psp_rise_tau_ms`` (tau_s = 5 ms) of the
PSP kernel as in the paper's neuron model; ``eligibility_tau_ms`` (kappa's time constant,
default 500 ms: model choice of the order used in the paper), ``learning_rate`` (eta),
bounds. The PSP kernel is unnormalised (peak < 1); eta absorbs the scale.
"""
from __future__ import annotations

from dataclasses import dataclass

from agents.rules.base import RuleParams
from agents.snn.plasticity import Conversion, EligibilityTrace, NeuronTrace, PlasticityRule

__all__ = ["TDLTPParams"]


@dataclass(frozen=True)
class TDLTPParams(RuleParams):
    """TD-LTP (Fremaux et al. 2013); see the module docstring."""

    psp_tau_ms: float = 20.0
    psp_rise_tau_ms: float = 5.0
    eligibility_tau_ms: float = 500.0
    learning_rate: float = 0.001
    w_min: float = 0.0
    w_max: float = 10.0
    modulator: str = "DA"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.psp_rise_tau_ms < self.psp_tau_ms:
            raise ValueError(f"TDLTPParams.psp_rise_tau_ms ({self.psp_rise_tau_ms}) must be < "
                             f"psp_tau_ms ({self.psp_tau_ms})")

    def build(self) -> PlasticityRule:
        return PlasticityRule(
            name="td_ltp",
            neuron_traces=(NeuronTrace("pre_membrane", self.psp_tau_ms, 1.0),
                           NeuronTrace("pre_synaptic", self.psp_rise_tau_ms, 1.0)),
            eligibility_traces=(
                EligibilityTrace("coincidence_m", self.eligibility_tau_ms, on_pre_trace=None,
                                 on_post_trace="pre_membrane"),
                EligibilityTrace("coincidence_s", self.eligibility_tau_ms, on_pre_trace=None,
                                 on_post_trace="pre_synaptic"),
            ),
            conversions=(Conversion("coincidence_m", self.modulator, self.learning_rate),
                         Conversion("coincidence_s", self.modulator, -self.learning_rate)),
            w_min=self.w_min, w_max=self.w_max, decay="exact")
