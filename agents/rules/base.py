"""Shared machinery of the rule presets: parameter validation and small rule transforms.

Every preset is a frozen dataclass subclassing :class:`RuleParams`; its ``build()``
returns an :class:`agents.snn.PlasticityRule` (rules are data; the engine's one generic
kernel runs them). Validation is by field name so that all presets refuse bad input the
same way: a field whose default is a number must be given a number, ``*_ms`` fields must
be > 0 (``inf`` allowed: no decay), every other number must be finite, and ``w_min < w_max``.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields, replace

from agents.snn.plasticity import PlasticityRule

__all__ = ["RuleParams", "validate_params", "widen_window"]


def validate_params(params) -> None:
    """Raise ``ValueError`` naming the first bad field of a parameter dataclass."""
    owner = type(params).__name__
    for f in fields(params):
        value = getattr(params, f.name)
        numeric_field = type(f.default) in (int, float)
        if numeric_field and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            # A string or None here would only fail later inside math / the kernel, unnamed.
            raise ValueError(f"{owner}.{f.name} must be a number, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isnan(value):
            raise ValueError(f"{owner}.{f.name} must not be NaN")
        if f.name.endswith("_ms"):
            if value <= 0:
                raise ValueError(f"{owner}.{f.name} must be > 0 ms, got {value!r}")
        elif not math.isfinite(value) and f.name not in ("w_min", "w_max"):
            raise ValueError(f"{owner}.{f.name} must be finite, got {value!r}")
    w_min = getattr(params, "w_min", None)
    w_max = getattr(params, "w_max", None)
    if w_min is not None and w_max is not None and not w_min < w_max:
        raise ValueError(f"{owner}: bounds inverted or empty: w_min={w_min!r} >= w_max={w_max!r}")


@dataclass(frozen=True)
class RuleParams:
    """Base of every preset's parameters (validated on construction)."""

    def __post_init__(self) -> None:
        validate_params(self)

    def build(self) -> PlasticityRule:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def modulators(self) -> tuple[str, ...]:
        """Names of the modulators whose level the rule reads (engine modulator names)."""
        rule = self.build()
        names = [c.modulator for c in rule.conversions]
        names += [getattr(e, "threshold_modulator", None) for e in rule.eligibility_traces]
        return tuple(dict.fromkeys(n for n in names if n))


def widen_window(rule: PlasticityRule, scale: float) -> PlasticityRule:
    """Same rule with every neuron (STDP) trace time constant multiplied by ``scale``.

    Used for the phasic-NE "plasticity window wider" effect when NE is present during the
    pairing (slice protocols); ``scale = NeuromodulatorEffects.window_scale(ne)``.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"window scale must be finite and > 0, got {scale!r}")
    traces = tuple(replace(t, tau_ms=t.tau_ms * scale) for t in rule.neuron_traces)
    return replace(rule, neuron_traces=traces)
