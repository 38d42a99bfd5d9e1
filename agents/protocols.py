"""In-silico slice experiments: a pairing protocol plus a modulator schedule -> dw.

Public API::

    PairingProtocol(offset_ms, n_pairings=1, rate_hz=1.0)
    ModulatorPulse(modulator, time_ms, amount=1.0, duration_ms=0.0)
    run_protocol(rule, pairing, schedule, ...) -> ProtocolResult            one experiment
    run_protocols(rule, pairing, schedules, ...) -> ProtocolResult          B experiments,
                                                        one engine run (population axis)
    sweep_modulator_delay(rule, pairing, modulator, delays_ms, ...) -> (delays, dw)
    plot_timing_curve(delays_ms, dw, ax=None, ...) ; plot_sign_table(table, ax=None)

The preparation: two spike sources, ``pre`` (neuron 0) and ``post`` (neuron 1), and one
plastic synapse pre -> post following ``rule`` (an :class:`agents.snn.PlasticityRule`,
e.g. from :func:`agents.rules.get_rule`) on the engine (:mod:`agents.snn`). Spikes are
forced at the chosen steps (source probability 1 for one step), so the pairing is exact.

Timing convention: ``t = 0`` is the LATER spike of the LAST pairing (for a single
pre-before-post pairing: the post spike, i.e. the jump of an STDP eligibility trace);
``ModulatorPulse.time_ms`` is relative to it (negative: before). Pairing ``k`` has its
pre spike at ``T_k`` and its post spike at ``T_k + offset_ms``, ``T_k`` spaced by
``1000 / rate_hz`` ms.

Modulators. Each pulse is a signal for :func:`agents.neuromodulators.time_course`:
``duration_ms == 0`` is a release burst through the modulator's kinetics (peak
concentration ``amount x phasic_gain``), ``duration_ms > 0`` a bath application (the
concentration relaxes to ``tonic + amount`` for the duration, with the kinetics' rise
and decay: drive ``"level"``). Concentrations above baseline become the per-step third
factors through :meth:`agents.neuromodulators.NeuromodulatorEffects.conversion_factors`
(effect switches apply: ACh / NE learning-rate boost, ACh depression factor, 5-HT
conversion) and reach the engine as externally supplied modulators
(``Modulator(name, tau_ms=0)`` + ``release``), so the kinetics have one home. With
``effects.ne_window`` the STDP window of the rule is widened by
``window_scale(NE at the pairings)`` (:func:`agents.rules.widen_window`).

The run lasts until ``20 x`` the slowest modulator decay after the last pulse (or
``duration_ms`` if given); ``dw`` is the final minus the initial weight.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

import numpy as np

from agents.neuromodulators import (
    ModulatorKinetics, NeuromodulatorEffects, default_kinetics, time_course,
)
from agents.rules.base import widen_window
from agents.snn import Explicit, Modulator, NetworkBuilder, PlasticityRule, PoissonSource

__all__ = ["PairingProtocol", "ModulatorPulse", "ProtocolResult", "run_protocol",
           "run_protocols", "sweep_modulator_delay", "plot_timing_curve", "plot_sign_table"]

_MARGIN_MS = 20.0  # quiet time before the first event


@dataclass(frozen=True)
class PairingProtocol:
    """``n_pairings`` pre/post pairings at ``rate_hz``; ``offset_ms = t_post - t_pre``
    (> 0 pre-before-post, < 0 post-before-pre)."""

    offset_ms: float
    n_pairings: int = 1
    rate_hz: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.offset_ms):
            raise ValueError(f"offset_ms must be finite, got {self.offset_ms!r}")
        if int(self.n_pairings) != self.n_pairings or self.n_pairings < 0:
            raise ValueError(f"n_pairings must be an integer >= 0, got {self.n_pairings!r}")
        if not (math.isfinite(self.rate_hz) and self.rate_hz > 0):
            raise ValueError(f"rate_hz must be finite and > 0, got {self.rate_hz!r}")
        if self.n_pairings > 1 and abs(self.offset_ms) >= 1000.0 / self.rate_hz:
            raise ValueError(f"|offset_ms| ({self.offset_ms}) must be shorter than the pairing "
                             f"period ({1000.0 / self.rate_hz} ms)")

    @property
    def period_ms(self) -> float:
        return 1000.0 / self.rate_hz


@dataclass(frozen=True)
class ModulatorPulse:
    """``amount`` of ``modulator`` at ``time_ms`` (relative to t = 0, see module doc);
    ``duration_ms = 0``: a burst through the kinetics, > 0: a bath of that duration."""

    modulator: str
    time_ms: float
    amount: float = 1.0
    duration_ms: float = 0.0

    def __post_init__(self) -> None:
        for name in ("time_ms", "amount", "duration_ms"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"ModulatorPulse.{name} must be finite, got {value!r}")
        if self.duration_ms < 0:
            raise ValueError(f"ModulatorPulse.duration_ms must be >= 0, got {self.duration_ms!r}")


@dataclass
class ProtocolResult:
    """``dw`` (B,), ``w_init``, ``w_final`` (B,), the time axis ``times_ms`` (T,) relative
    to t = 0, ``concentrations`` and ``factors`` (name -> (B, T)), the rule actually run
    per experiment (after window widening) and the spike times of pre / post (ms, rel.)."""

    dw: np.ndarray
    w_init: float
    w_final: np.ndarray
    times_ms: np.ndarray
    concentrations: dict
    factors: dict
    rules: list
    pre_spikes_ms: np.ndarray
    post_spikes_ms: np.ndarray


def _spike_times(pairing: PairingProtocol, first_pre_ms: float) -> tuple[np.ndarray, np.ndarray]:
    k = np.arange(pairing.n_pairings)
    pre = first_pre_ms + k * pairing.period_ms
    return pre, pre + pairing.offset_ms


def _slowest_tau(kinetics: Sequence[ModulatorKinetics]) -> float:
    return max([k.decay_tau_ms + k.rise_tau_ms + k.release_delay_ms for k in kinetics] + [1.0])


def run_protocols(
    rule: PlasticityRule,
    pairing: PairingProtocol,
    schedules: Sequence[Sequence[ModulatorPulse]],
    *,
    kinetics: Mapping[str, ModulatorKinetics] | None = None,
    effects: NeuromodulatorEffects | None = None,
    dt_ms: float = 1.0,
    w_init: float = 1.0,
    duration_ms: float | None = None,
) -> ProtocolResult:
    """Run ``len(schedules)`` experiments with the same pairing, one schedule each."""
    if not isinstance(rule, PlasticityRule):
        raise ValueError(f"rule must be a PlasticityRule (see agents.rules.get_rule), got {rule!r}")
    if not schedules:
        raise ValueError("schedules must contain at least one schedule (possibly empty)")
    if not (rule.w_min <= w_init <= rule.w_max):
        raise ValueError(f"w_init={w_init!r} outside the rule's bounds [{rule.w_min}, {rule.w_max}]")
    kinetics = dict(default_kinetics() if kinetics is None else kinetics)
    effects = NeuromodulatorEffects() if effects is None else effects
    # modulators the engine needs: those converting eligibility and those shifting a
    # pairing threshold (metaplasticity / priming)
    names = list(dict.fromkeys(
        [c.modulator for c in rule.conversions]
        + [m for m in (getattr(e, "threshold_modulator", None) for e in rule.eligibility_traces)
           if m]))
    used = set(names) | {p.modulator for s in schedules for p in s}
    for name in used:
        if name not in kinetics:
            raise ValueError(f"no kinetics for modulator {name!r}; known: {sorted(kinetics)}")
    for s in schedules:
        for p in s:
            if p.modulator not in names and p.modulator not in kinetics:
                raise ValueError(f"unknown modulator {p.modulator!r}")

    # --- timeline (absolute ms from the start of the run) --------------------------------
    n = pairing.n_pairings
    period = pairing.period_ms
    all_times = [p.time_ms for s in schedules for p in s]
    earliest_pulse = min(all_times) if all_times else 0.0
    ref_after_first_pre = (n - 1) * period + max(0.0, pairing.offset_ms) if n else 0.0
    first_pre = max(_MARGIN_MS - min(0.0, pairing.offset_ms),
                    _MARGIN_MS - earliest_pulse - ref_after_first_pre)
    reference = first_pre + ref_after_first_pre
    pre_ms, post_ms = _spike_times(pairing, first_pre)
    if duration_ms is None:
        ends = [reference] + [reference + p.time_ms + p.duration_ms for s in schedules for p in s]
        duration_ms = max(ends) + 20.0 * _slowest_tau([kinetics[m] for m in used])
    n_steps = int(math.ceil(duration_ms / dt_ms)) + 1
    B = len(schedules)
    times = np.arange(n_steps) * dt_ms - reference

    # --- modulator concentrations and third factors --------------------------------------
    conc = {}
    for name in sorted(used):
        kin = kinetics[name]
        burst = np.zeros((B, n_steps))
        bath = np.zeros((B, n_steps))
        for b, s in enumerate(schedules):
            for p in s:
                if p.modulator != name:
                    continue
                start = int(round((reference + p.time_ms) / dt_ms))
                if p.duration_ms == 0:
                    if 0 <= start < n_steps:
                        burst[b, start] += p.amount
                else:
                    stop = int(round((reference + p.time_ms + p.duration_ms) / dt_ms))
                    bath[b, max(start, 0):max(min(stop, n_steps), 0)] += p.amount
        phasic_only = replace(kin, tonic_baseline=0.0)
        level = (kin.tonic_baseline
                 + _signed_course(phasic_only, burst, dt_ms, "impulse")
                 + _signed_course(phasic_only, bath, dt_ms, "level"))
        conc[name] = np.maximum(0.0, level)
    above = {k: np.maximum(0.0, v - kinetics[k].tonic_baseline) for k, v in conc.items()}
    da_name = "DA"
    da_factor = conc[da_name] - kinetics[da_name].tonic_baseline if da_name in conc else None
    factors_all = effects.conversion_factors(above, dopamine_factor=da_factor)
    factors = {}
    for name in names:
        f = factors_all.get(name, above.get(name))
        factors[name] = np.broadcast_to(np.asarray(f, dtype=np.float64), (B, n_steps)) \
            if f is not None else np.zeros((B, n_steps))

    # --- NE window widening, per experiment (the rule's structure is per network) --------
    pair_steps = np.concatenate([pre_ms, post_ms]) / dt_ms
    scales = np.ones(B)
    if "NE" in above and n:
        idx = np.clip(np.round(pair_steps).astype(int), 0, n_steps - 1)
        scales = np.asarray(effects.window_scale(above["NE"][:, idx].mean(axis=1)), dtype=float)
        scales = np.broadcast_to(scales, (B,)).copy()
    rules = [rule if s == 1.0 else widen_window(rule, float(s)) for s in scales]

    # --- run on the engine: one network population per distinct rule --------------------
    w_final = np.empty(B)
    release_all = np.stack([factors[m] for m in names], axis=-1) if names else None
    for s in np.unique(scales):
        members = np.nonzero(scales == s)[0]
        net = _build(rules[members[0]], names, len(members), dt_ms, w_init)
        release = np.ascontiguousarray(release_all[members]) if names else None
        _run_forced(net, pre_ms, post_ms, dt_ms, n_steps, release)
        w_final[members] = net.weights()[:, 0]
    return ProtocolResult(dw=w_final - w_init, w_init=w_init, w_final=w_final, times_ms=times,
                          concentrations=conc, factors=factors, rules=rules,
                          pre_spikes_ms=pre_ms - reference, post_spikes_ms=post_ms - reference)


def _signed_course(kin: ModulatorKinetics, signal: np.ndarray, dt_ms: float, drive: str):
    """Phasic part of :func:`time_course` without the floor (bursts and baths add)."""
    if not signal.any():
        return np.zeros_like(signal)
    # time_course floors at 0; split the signal by sign so each part is non-negative.
    pos = time_course(kin, np.maximum(signal, 0.0), dt_ms, drive)
    neg = time_course(kin, np.maximum(-signal, 0.0), dt_ms, drive)
    return pos - neg


def _build(rule, modulator_names, population_size, dt_ms, w_init):
    builder = NetworkBuilder(dt_ms=dt_ms)
    builder.add_population("pre", 1, PoissonSource())
    builder.add_population("post", 1, PoissonSource())
    builder.connect([0], [1], Explicit(np.array([0]), np.array([1])), weight=w_init,
                    delay_steps=1, plastic=True)
    # tau_ms = 0: the level of each step is exactly the supplied third factor.
    modulators = [Modulator(m, tau_ms=0.0) for m in modulator_names]
    return builder.build(population_size=population_size, rule=rule, modulators=modulators,
                         spike_capacity=0)


def _run_forced(net, pre_ms, post_ms, dt_ms, n_steps, release):
    events: dict[int, list[int]] = {}
    for neuron, times in ((0, pre_ms), (1, post_ms)):
        for t in times:
            events.setdefault(int(round(t / dt_ms)), []).append(neuron)

    def advance(k):
        if k <= 0:
            return
        rel = None if release is None else release[:, net.t:net.t + k]
        net.run(k, release=rel)

    for step in sorted(events):
        if step >= n_steps:
            break
        advance(step - net.t)
        # probability 1 for one step: the source spikes exactly then (u < 1 always)
        for neuron, name in ((0, "pre"), (1, "post")):
            net.set_source_probabilities(name, [1.0 if neuron in events[step] else 0.0])
        advance(1)
        net.set_source_probabilities("pre", [0.0])
        net.set_source_probabilities("post", [0.0])
    advance(n_steps - net.t)


def run_protocol(rule: PlasticityRule, pairing: PairingProtocol,
                 schedule: Sequence[ModulatorPulse] = (), **kwargs) -> ProtocolResult:
    """One experiment (see :func:`run_protocols` for the keyword arguments)."""
    return run_protocols(rule, pairing, [list(schedule)], **kwargs)


def sweep_modulator_delay(rule: PlasticityRule, pairing: PairingProtocol, modulator: str,
                          delays_ms, amount: float = 1.0, duration_ms: float = 0.0,
                          background: Sequence[ModulatorPulse] = (), **kwargs):
    """dw as a function of the delay of one ``modulator`` pulse (relative to t = 0), all
    delays in one engine run; ``background`` pulses are added to every schedule.
    Returns ``(delays_ms, dw)``."""
    delays = np.asarray(delays_ms, dtype=np.float64)
    schedules = [[ModulatorPulse(modulator, float(d), amount, duration_ms), *background]
                 for d in delays]
    return delays, run_protocols(rule, pairing, schedules, **kwargs).dw


def plot_timing_curve(delays_ms, dw, ax=None, label=None, normalise: bool = True, **style):
    """Plot dw (normalised to its largest |dw| if ``normalise``) against modulator delay (s)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    dw = np.asarray(dw, dtype=float)
    y = dw / np.max(np.abs(dw)) if normalise and np.any(dw) else dw
    ax.plot(np.asarray(delays_ms) / 1000.0, y, marker="o", ms=3, label=label, **style)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.axvline(0.0, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("modulator delay after pairing (s)")
    ax.set_ylabel("dw / max|dw|" if normalise else "dw")
    if label:
        ax.legend(frameon=False, fontsize=8)
    return ax


def plot_sign_table(table: Mapping[str, Mapping[str, float]], ax=None, title: str = ""):
    """Heat map of relative weight change: rows = conditions (pairing order), columns =
    modulators; ``table[row][col] = dw / w``. Red = LTP, blue = LTD."""
    import matplotlib.pyplot as plt

    rows = list(table)
    cols = list(dict.fromkeys(c for r in rows for c in table[r]))
    data = np.array([[table[r].get(c, np.nan) for c in cols] for r in rows]) * 100.0
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(cols) + 2.5, 0.6 * len(rows) + 1.5))
    lim = np.nanmax(np.abs(data)) or 1.0
    ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=20, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    for i in range(len(rows)):
        for j in range(len(cols)):
            if np.isfinite(data[i, j]):
                ax.text(j, i, f"{data[i, j]:+.0f}%", ha="center", va="center", fontsize=8)
    ax.set_title(title, fontsize=9)
    return ax
