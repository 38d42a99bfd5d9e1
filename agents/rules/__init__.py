"""Three-factor learning rules as data, one interface (issue 4).

Public API::

    get_rule(name, **params) -> agents.snn.PlasticityRule   build a preset by name
    get_params(name, **params) -> RuleParams                its frozen parameter dataclass
    RULES: dict[name, parameter class]                      the registry
    rule_names() -> tuple of known names
    widen_window(rule, scale) -> rule                       phasic-NE window effect

Every rule is a frozen dataclass of parameters (defaults from its paper, or marked as a
model choice) whose ``build()`` returns the rule as DATA (neuron traces, eligibility
traces, conversions, bounds) run by the engine's one generic kernel
(:func:`agents.snn.kernels.run_population`). ``params.modulators`` lists the engine
modulator names the rule reads ("DA", "ACh", "NE", "5HT"; see
:mod:`agents.neuromodulators`). An unknown name raises ``ValueError`` listing the known
ones; negative / zero time constants, NaN or infinite gains and inverted bounds raise
``ValueError`` naming the field.

Rules and timing presets:

=============  ============================================================  ==========
name           what it encodes                                               module
=============  ============================================================  ==========
rstdp          R-STDP, eligibility tau_c = 1 s, DA third factor              izhikevich
               (Izhikevich 2007; Euler decays as in the paper's code)
exponential    same with exact exponential decays: the plain timing preset   izhikevich
mstdp          MSTDP: dw = gamma r zeta (Florian 2007)                        florian
mstdp_et       MSTDP-ET: tau_z dz/dt = -z + zeta, dw/dt = gamma r z          florian
td_ltp         TD error x kappa-filtered pre-post coincidence                fremaux
               (Fremaux, Sprekeler & Gerstner 2013)
brzosko        symmetric trace, ACh -> depression, DA after -> potentiation  brzosko
               (Brzosko et al. 2015, 2017)
he             LTP trace converted by NE, LTD trace by 5-HT (He et al. 2015)  he
yagishita      eligibility with a rise time: DA works 0.3-2 s after the      yagishita
               pairing, not before (Yagishita et al. 2014)
priming        LTP threshold lowered by a modulator pulse before the         priming
               pairing, decaying with tau_prime (metaplasticity)
=============  ============================================================  ==========
"""
from __future__ import annotations

from agents.rules.base import RuleParams, validate_params, widen_window
from agents.rules.brzosko import SequentialNeuromodulationParams
from agents.rules.florian import MSTDPETParams, MSTDPParams
from agents.rules.fremaux import TDLTPParams
from agents.rules.he import DualTraceParams
from agents.rules.izhikevich import ExponentialTimingParams, RSTDPParams
from agents.rules.priming import PrimingParams
from agents.rules.yagishita import YagishitaParams
from agents.snn.plasticity import PlasticityRule

__all__ = [
    "RULES", "get_rule", "get_params", "rule_names", "widen_window", "validate_params",
    "RuleParams", "RSTDPParams", "ExponentialTimingParams", "MSTDPParams", "MSTDPETParams",
    "TDLTPParams", "SequentialNeuromodulationParams", "DualTraceParams", "YagishitaParams",
    "PrimingParams",
]

RULES: dict[str, type[RuleParams]] = {
    "rstdp": RSTDPParams,
    "exponential": ExponentialTimingParams,
    "mstdp": MSTDPParams,
    "mstdp_et": MSTDPETParams,
    "td_ltp": TDLTPParams,
    "brzosko": SequentialNeuromodulationParams,
    "he": DualTraceParams,
    "yagishita": YagishitaParams,
    "priming": PrimingParams,
}


def rule_names() -> tuple[str, ...]:
    return tuple(RULES)


def get_params(name: str, **params) -> RuleParams:
    """The parameter dataclass of rule ``name`` with ``params`` overriding the defaults."""
    try:
        cls = RULES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(RULES)}") from None
    try:
        return cls(**params)
    except TypeError as err:  # unknown keyword: say which fields exist
        from dataclasses import fields
        raise ValueError(f"rule {name!r}: {err}; parameters: "
                         f"{[f.name for f in fields(cls)]}") from None


def get_rule(name: str, **params) -> PlasticityRule:
    """Build rule ``name`` (see the table above) as engine data."""
    return get_params(name, **params).build()
