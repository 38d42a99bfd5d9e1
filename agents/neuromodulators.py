"""Neuromodulator release kinetics (DA, ACh, NE, 5-HT) and their switchable effects.

Public API::

    ModulatorKinetics(name, release_delay_ms, rise_tau_ms, decay_tau_ms, tonic_baseline,
                      phasic_gain, drive)           frozen parameters of one modulator
    dopamine(), acetylcholine(), phasic_norepinephrine(), tonic_norepinephrine(),
    serotonin(), priming_state()                    presets (defaults documented per preset)
    default_kinetics() -> dict[name, ModulatorKinetics]
    time_course(kinetics, signal, dt_ms, drive=None) -> concentration   vectorised (..., T)
    Neuromodulator(kinetics, dt_ms).step(signal) -> concentration       stateful, 1 step
        .concentration, .relative_level (= concentration - tonic_baseline), .reset()
    UtilityMonitor(short_tau_ms, long_tau_ms).step(reward) -> utility drop (tonic NE drive)
    ChangePointNE(drift, threshold, reset_fraction).step(error, chose_favourite) -> burst
        phasic NE from a change-point detector on the agent's own prediction errors
        (.evidence, .bursts, .reset()); the burst's effect: ``reset_fraction``
    NeuromodulatorEffects(...)                      switches + gains of every effect;
        .input_gain(ach) .recurrent_gain(ach) .cue_weight(ach) .learning_rate_scale(ach, ne)
        .depression_bias(ach) .window_scale(ne) .action_temperature(base, tonic_ne)
        .serotonin_factor(ht) .dopamine_release_scale(da_above_baseline)
        .conversion_factors(levels) -> per-step third factors for the engine
    NeuromodulatorSystem(dt_ms, kinetics, effects, dopamine_third_factor).step(
        rpe=, reward=, novelty=, uncertainty=, surprise=, serotonin=, priming=) -> levels;
        .conversion_factors() -> {"DA", "ACh", "NE", "5HT"} values for Network.run(release=)
    Names: DA, ACH, NE, NE_TONIC, SEROTONIN, PRIMING (the engine's modulator names).

Concentration model (one definition for the stateful and the vectorised form). A signal
``s[n]`` (per step of ``dt_ms``) enters after ``release_delay_ms`` (rounded to steps), is
scaled by ``phasic_gain`` and filtered by a difference of exponentials::

    p_d[n] = a_d p_d[n-1] + g s[n - delay]      a_d = exp(-dt / decay_tau_ms)
    p_r[n] = a_r p_r[n-1] + g s[n - delay]      a_r = exp(-dt / rise_tau_ms)  (0 if rise = 0)
    phasic[n] = K (p_d[n] - p_r[n])             (rise = 0: p_r = 0, phasic = K p_d)
    concentration[n] = max(0, tonic_baseline + phasic[n])

``K`` fixes what a unit of signal means (``drive``):

* ``"impulse"``: a signal value at one step is a burst; ``K`` makes the peak of the
  response equal ``g s`` (continuous-time peak of ``exp(-t/tau_d) - exp(-t/tau_r)``).
  Used for event signals: reward prediction error (DA), surprise (phasic NE), 5-HT puffs.
* ``"level"``: a sustained signal ``s`` gives the steady state ``tonic + g s`` (``K`` makes
  the kernel sum to 1). Used for state-like signals: novelty / uncertainty (ACh), utility
  drop (tonic NE), and bath applications in slice protocols.

The concentration is never negative: a dip below baseline (negative RPE) is floored at
0, so a rule reading ``relative_level = concentration - tonic_baseline`` sees dips down to
``-tonic_baseline`` only (Potjans et al. 2011 point out this asymmetry; a rule that needs
a fully signed error should read the RPE itself: ``NeuromodulatorSystem`` with
``dopamine_third_factor="signed_rpe"``).

Cross-talk that keeps potentiation from running away (part of the model, each switchable):

1. DA autoinhibition (D2 autoreceptors reduce release while extracellular DA is high;
   Benoit-Marand, Borrelli & Gonon 2001, J Neurosci 21:9134): phasic DA release is scaled
   by ``1 / (1 + k_auto * max(0, DA - tonic))``, so a run of rewards produces diminishing
   DA increments and a bounded concentration.
2. The learning-rate boost of ACh and phasic NE saturates: ``1 + k x / (1 + x)`` < ``1 + k``.
3. ACh biases plasticity toward depression while high (Brzosko et al. 2017): the
   ``"ACh"`` factor converts eligibility with a negative gain in the rules that use it,
   and ``depression_bias`` scales LTD up / LTP down for rules that do not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Mapping

import numpy as np
from scipy.signal import lfilter

__all__ = [
    "DA", "ACH", "NE", "NE_TONIC", "SEROTONIN", "PRIMING", "priming_state",
    "ModulatorKinetics", "dopamine", "acetylcholine", "phasic_norepinephrine",
    "tonic_norepinephrine", "serotonin", "default_kinetics", "time_course",
    "Neuromodulator", "UtilityMonitor", "ChangePointNE", "NeuromodulatorEffects",
    "NeuromodulatorSystem",
]

# Modulator names shared with the rules (Conversion.modulator) and the engine.
DA = "DA"
ACH = "ACh"
NE = "NE"            # phasic norepinephrine
NE_TONIC = "NE_tonic"
SEROTONIN = "5HT"
PRIMING = "priming"  # metaplastic state set by modulation before a pairing

_DRIVES = ("impulse", "level")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_finite_number(value) -> bool:
    """A real, finite number (not a bool, not a string: those would fail later, unnamed)."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and math.isfinite(value))


@dataclass(frozen=True)
class ModulatorKinetics:
    """Release kinetics of one neuromodulator (see the module docstring for the equations).

    Parameters: ``release_delay_ms`` (latency from signal to release, ms, >= 0),
    ``rise_tau_ms`` (rise time constant, ms, >= 0; 0 = instantaneous rise),
    ``decay_tau_ms`` (clearance time constant, ms, > rise), ``tonic_baseline``
    (resting concentration, arbitrary concentration units, >= 0), ``phasic_gain``
    (concentration per unit of signal, finite), ``drive`` (``"impulse"`` or ``"level"``).
    """

    name: str
    release_delay_ms: float = 0.0
    rise_tau_ms: float = 0.0
    decay_tau_ms: float = 200.0
    tonic_baseline: float = 0.0
    phasic_gain: float = 1.0
    drive: str = "impulse"

    def __post_init__(self) -> None:
        for f in ("release_delay_ms", "rise_tau_ms", "decay_tau_ms", "tonic_baseline",
                  "phasic_gain"):
            value = getattr(self, f)
            _require(isinstance(value, (int, float)) and math.isfinite(value),
                     f"ModulatorKinetics({self.name!r}).{f} must be finite, got {value!r}")
        _require(self.release_delay_ms >= 0,
                 f"ModulatorKinetics({self.name!r}).release_delay_ms must be >= 0, "
                 f"got {self.release_delay_ms!r}")
        _require(self.rise_tau_ms >= 0,
                 f"ModulatorKinetics({self.name!r}).rise_tau_ms must be >= 0, "
                 f"got {self.rise_tau_ms!r}")
        _require(self.decay_tau_ms > 0,
                 f"ModulatorKinetics({self.name!r}).decay_tau_ms must be > 0, "
                 f"got {self.decay_tau_ms!r}")
        _require(self.rise_tau_ms < self.decay_tau_ms,
                 f"ModulatorKinetics({self.name!r}): rise_tau_ms ({self.rise_tau_ms}) must be "
                 f"< decay_tau_ms ({self.decay_tau_ms})")
        _require(self.tonic_baseline >= 0,
                 f"ModulatorKinetics({self.name!r}).tonic_baseline must be >= 0, "
                 f"got {self.tonic_baseline!r}")
        _require(self.drive in _DRIVES,
                 f"ModulatorKinetics({self.name!r}).drive must be one of {_DRIVES}, "
                 f"got {self.drive!r}")

    # -- discrete filter constants ------------------------------------------------------
    def delay_steps(self, dt_ms: float) -> int:
        return int(round(self.release_delay_ms / dt_ms))

    def filter_constants(self, dt_ms: float, drive: str | None = None) -> tuple[float, float, float]:
        """``(a_decay, a_rise, K)`` of the difference-of-exponentials filter at ``dt_ms``."""
        _require(math.isfinite(dt_ms) and dt_ms > 0, f"dt_ms must be > 0, got {dt_ms!r}")
        drive = self.drive if drive is None else drive
        _require(drive in _DRIVES, f"drive must be one of {_DRIVES}, got {drive!r}")
        a_d = math.exp(-dt_ms / self.decay_tau_ms)
        a_r = math.exp(-dt_ms / self.rise_tau_ms) if self.rise_tau_ms > 0 else 0.0
        if drive == "level":
            # sum_n (a_d^n - a_r^n) = 1/(1-a_d) - 1/(1-a_r): unit steady-state gain.
            total = 1.0 / (1.0 - a_d) - (1.0 / (1.0 - a_r) if a_r > 0 else 0.0)
            return a_d, a_r, 1.0 / total
        if a_r == 0.0:
            return a_d, a_r, 1.0
        td, tr = self.decay_tau_ms, self.rise_tau_ms
        t_peak = math.log(td / tr) * td * tr / (td - tr)
        return a_d, a_r, 1.0 / (math.exp(-t_peak / td) - math.exp(-t_peak / tr))


def dopamine(**overrides) -> ModulatorKinetics:
    """Dopamine, driven by the reward prediction error (or by reward itself).

    Defaults from Izhikevich (2007, Cerebral Cortex 17:2443): extracellular DA decays with
    ``tau_DA = 200 ms``, rises within a step, tonic level ``0.01`` (uM), a reward adds
    ``0.5`` (so ``phasic_gain = 1`` with reward 0.5 reproduces it). ``drive="impulse"``.
    """
    return replace(ModulatorKinetics(DA, 0.0, 0.0, 200.0, 0.01, 1.0, "impulse"), **overrides)


def acetylcholine(**overrides) -> ModulatorKinetics:
    """Acetylcholine, driven by novelty and expected uncertainty (``drive="level"``).

    Cortical cholinergic transients rise over ~0.1-0.5 s and last seconds (Parikh,
    Kozak, Martinez & Sarter 2007, Neuron 56:141); defaults: no delay, rise 200 ms,
    decay 1000 ms, tonic 0 (model choices inside those ranges).
    """
    return replace(ModulatorKinetics(ACH, 0.0, 200.0, 1000.0, 0.0, 1.0, "level"), **overrides)


def phasic_norepinephrine(**overrides) -> ModulatorKinetics:
    """Phasic NE, driven by surprise (unexpected uncertainty; Yu & Dayan 2005).

    Locus coeruleus phasic responses follow salient / unexpected events with ~100 ms
    latency (Aston-Jones & Cohen 2005, Annu Rev Neurosci 28:403); defaults: delay 100 ms,
    rise 50 ms, decay 500 ms (model choices), ``drive="impulse"``.
    """
    return replace(ModulatorKinetics(NE, 100.0, 50.0, 500.0, 0.0, 1.0, "impulse"), **overrides)


def tonic_norepinephrine(**overrides) -> ModulatorKinetics:
    """Tonic NE, driven by the drop of recent utility (:class:`UtilityMonitor`).

    Aston-Jones & Cohen (2005): tonic LC activity rises when task utility falls (short-term
    utility, ~10 s, below its long-term average), which favours exploration. Defaults:
    slow (decay 5 s, ``drive="level"``), tonic baseline 0.
    """
    return replace(ModulatorKinetics(NE_TONIC, 0.0, 0.0, 5000.0, 0.0, 1.0, "level"),
                   **overrides)


def serotonin(**overrides) -> ModulatorKinetics:
    """Serotonin (5-HT); converts the LTD eligibility trace (He et al. 2015, Neuron 88:528).

    Defaults: no delay, instantaneous rise, decay 1000 ms (model choice), impulse drive.
    """
    return replace(ModulatorKinetics(SEROTONIN, 0.0, 0.0, 1000.0, 0.0, 1.0, "impulse"),
                   **overrides)


def priming_state(**overrides) -> ModulatorKinetics:
    """Metaplastic priming state ``P`` set by a modulator pulse BEFORE a pairing.

    Metaplasticity (Abraham & Bear 1996, Trends Neurosci 19:126): prior activity or
    neuromodulation changes the threshold of later plasticity; e.g. beta-adrenergic
    activation before a weak tetanus lets it induce lasting LTP (Gelinas & Nguyen 2005,
    J Neurosci 25:3294). ``P`` jumps by the pulse amount and decays with
    ``decay_tau_ms`` (default 10 s: a model choice that compresses the tens of minutes of
    slice priming to the behavioural time scale); the ``priming`` rule lowers its LTP
    threshold by ``threshold_shift_per_unit x P``. Impulse drive, no rise, tonic 0.
    """
    return replace(ModulatorKinetics(PRIMING, 0.0, 0.0, 10_000.0, 0.0, 1.0, "impulse"),
                   **overrides)


def default_kinetics() -> dict[str, ModulatorKinetics]:
    return {k.name: k for k in (dopamine(), acetylcholine(), phasic_norepinephrine(),
                                tonic_norepinephrine(), serotonin(), priming_state())}


def time_course(kinetics: ModulatorKinetics, signal, dt_ms: float = 1.0,
                drive: str | None = None) -> np.ndarray:
    """Concentration time course for a signal of shape ``(..., T)`` (time last).

    Same definition as :class:`Neuromodulator` (without autoinhibition, which is a
    state-dependent cross-talk of :class:`NeuromodulatorSystem`). ``drive`` overrides the
    kinetics' drive (protocols use ``"level"`` for bath applications).
    """
    s = np.asarray(signal, dtype=np.float64)
    _require(s.ndim >= 1, "signal needs a time axis")
    _require(bool(np.all(np.isfinite(s))), "signal must be finite")
    a_d, a_r, K = kinetics.filter_constants(dt_ms, drive)
    d = kinetics.delay_steps(dt_ms)
    u = kinetics.phasic_gain * s
    if d:
        u = np.concatenate([np.zeros(s.shape[:-1] + (min(d, s.shape[-1]),)), u[..., :-d]],
                           axis=-1)[..., :s.shape[-1]]
    phasic = lfilter([1.0], [1.0, -a_d], u, axis=-1)
    if a_r > 0:
        phasic = phasic - lfilter([1.0], [1.0, -a_r], u, axis=-1)
    return np.maximum(0.0, kinetics.tonic_baseline + K * phasic)


class Neuromodulator:
    """Stateful form of :func:`time_course`: ``step(signal)`` advances one step of ``dt_ms``.

    ``release_scale`` (default 1) multiplies the signal entering the filter at this step;
    :class:`NeuromodulatorSystem` uses it for DA autoinhibition.
    """

    def __init__(self, kinetics: ModulatorKinetics, dt_ms: float = 1.0) -> None:
        self.kinetics = kinetics
        self.dt_ms = float(dt_ms)
        self._a_d, self._a_r, self._K = kinetics.filter_constants(dt_ms)
        self._delay = kinetics.delay_steps(dt_ms)
        self.reset()

    def reset(self) -> None:
        self._p_d = 0.0
        self._p_r = 0.0
        self._queue = [0.0] * self._delay
        self.concentration = self.kinetics.tonic_baseline

    @property
    def relative_level(self) -> float:
        """Concentration minus the tonic baseline (the signed quantity rules read)."""
        return self.concentration - self.kinetics.tonic_baseline

    @property
    def phasic_level(self) -> float:
        """Unfloored phasic component ``K (p_d - p_r)``."""
        return self._K * (self._p_d - self._p_r)

    def step(self, signal: float = 0.0, release_scale: float = 1.0) -> float:
        _require(_is_finite_number(signal),
                 f"{self.kinetics.name} signal must be a finite number, got {signal!r}")
        u = self.kinetics.phasic_gain * float(signal) * release_scale
        if self._delay:
            self._queue.append(u)
            u = self._queue.pop(0)
        self._p_d = self._a_d * self._p_d + u
        if self._a_r > 0:
            self._p_r = self._a_r * self._p_r + u
        self.concentration = max(0.0, self.kinetics.tonic_baseline + self.phasic_level)
        return self.concentration


class UtilityMonitor:
    """Drive of tonic NE: how far recent utility has fallen below its long-run level.

    ``u_short`` and ``u_long`` are exponential averages of the reward per step with time
    constants ``short_tau_ms`` (default 10 s) and ``long_tau_ms`` (default 100 s), the two
    time scales of Aston-Jones & Cohen (2005); ``step(reward)`` returns
    ``max(0, u_long - u_short) / max(|u_long|, utility_floor)``, a relative drop in [0, ...).
    """

    def __init__(self, dt_ms: float = 1.0, short_tau_ms: float = 10_000.0,
                 long_tau_ms: float = 100_000.0, utility_floor: float = 1e-3) -> None:
        _require(_is_finite_number(dt_ms) and dt_ms > 0, f"dt_ms must be > 0, got {dt_ms!r}")
        _require(0 < short_tau_ms < long_tau_ms,
                 f"need 0 < short_tau_ms < long_tau_ms, got {short_tau_ms!r}, {long_tau_ms!r}")
        _require(utility_floor > 0, f"utility_floor must be > 0, got {utility_floor!r}")
        self._b_short = 1.0 - math.exp(-dt_ms / short_tau_ms)
        self._b_long = 1.0 - math.exp(-dt_ms / long_tau_ms)
        self.utility_floor = utility_floor
        self.u_short = 0.0
        self.u_long = 0.0

    def step(self, reward: float) -> float:
        self.u_short += self._b_short * (reward - self.u_short)
        self.u_long += self._b_long * (reward - self.u_long)
        return max(0.0, self.u_long - self.u_short) / max(abs(self.u_long), self.utility_floor)


class ChangePointNE:
    """Phasic NE as a change-point detector on the agent's OWN reward prediction errors.

    Papers: unexpected uncertainty drives NE and should make learned values give way
    (Yu & Dayan 2005, Neuron 46:681); a phasic LC burst "resets" the networks it reaches
    (Bouret & Sara 2005, Trends Neurosci 28:574); after evidence of a change point the
    effective learning rate of an ideal learner jumps and then relaxes (Nassar, Wilson,
    Heasly & Gold 2010, J Neurosci 30:12366). The detector is Page's (1954, Biometrika
    41:100) CUSUM. Per trial ``n`` with the agent's prediction error ``delta[n]`` (DA,
    reward units) on the action it chose::

        x[n] = -delta[n]   if the chosen action was the one it valued highest, else 0
        S[n] = max(0, S[n-1] + x[n] - drift)                 (evidence, reward units)
        burst[n] = S[n] > threshold;  on a burst S[n] <- 0   (one burst per episode of
                                                              evidence, then re-arm)

    In steady state the favourite pays as predicted, ``E[x] = 0`` and ``S`` drifts down by
    ``drift`` per trial (an ordinary loss adds at most the predicted value, < ``threshold``
    for the defaults); after an unsignalled change the favourite under-pays by the
    change in its reward probability per trial, so ``S`` climbs and crosses
    ``threshold`` within a few trials. Losses on the other actions (explored,
    expected to be poor) carry no evidence against the current belief.

    Effect of a burst (applied by the agent, :class:`agents.architectures.ThreeFactorAgent`
    for ``architecture="action_value"``): the learned action values are pulled toward
    their mean, ``Q_a <- Q_a + reset_fraction * (mean_b Q_b - Q_a)``: a partial reset to
    "no action is known to be better" from which the new evidence decides quickly, while a
    LOW baseline learning rate keeps ordinary losses from flipping the choice. The burst
    also drives the phasic NE concentration (impulse of 1), whose learning-rate effect
    (``NeuromodulatorEffects.ne_learning_rate``) is separate.

    Parameters: ``drift`` (reward units per trial, > 0: the expected evidence per trial
    tolerated as noise), ``threshold`` (reward units, > 0), ``reset_fraction`` (in
    [0, 1]: 0 = a burst changes no value, 1 = all action values equal after a burst).
    Defaults 0.2 / 1.0 / 0.5: the best of a rate-model scan on ReversalBandit-v0
    (0.8 / 0.2, reversal every 100 trials; BENCHMARKS.md).
    """

    def __init__(self, drift: float = 0.2, threshold: float = 1.0,
                 reset_fraction: float = 0.5) -> None:
        _require(_is_finite_number(drift) and drift > 0,
                 f"ChangePointNE drift must be a finite number > 0, got {drift!r}")
        _require(_is_finite_number(threshold) and threshold > 0,
                 f"ChangePointNE threshold must be a finite number > 0, got {threshold!r}")
        _require(_is_finite_number(reset_fraction) and 0.0 <= reset_fraction <= 1.0,
                 f"ChangePointNE reset_fraction must lie in [0, 1], got {reset_fraction!r}")
        self.drift = float(drift)
        self.threshold = float(threshold)
        self.reset_fraction = float(reset_fraction)
        self.reset()

    def reset(self) -> None:
        self.evidence = 0.0
        self.bursts = 0

    def step(self, error: float, chose_favourite: bool) -> bool:
        """One trial: the prediction error of the chosen action and whether that action
        was the one valued highest -> whether NE bursts on this trial."""
        _require(_is_finite_number(error), f"error must be a finite number, got {error!r}")
        x = -float(error) if chose_favourite else 0.0
        self.evidence = max(0.0, self.evidence + x - self.drift)
        if self.evidence > self.threshold:
            self.evidence = 0.0
            self.bursts += 1
            return True
        return False


@dataclass(frozen=True)
class NeuromodulatorEffects:
    """Which modulator effects are on, and their gains (per unit of modulator level).

    Levels ``x`` are concentrations above the tonic baseline (floored at 0) except for
    tonic NE, whose concentration is used as is. Each effect is one documented function:

    ============================  =========================================================
    switch                         effect (off -> neutral value)
    ============================  =========================================================
    ``ach_input_gain``             ``input_gain = 1 + k x_ACh`` on feedforward input and
                                   ``recurrent_gain = 1 / (1 + k_rec x_ACh)`` (encoding
                                   mode; Hasselmo 1999, 2006)
    ``ach_cue_discount``           ``cue_weight = 1 / (1 + k x_ACh)``: expected uncertainty
                                   lowers the weight of an unreliable cue (Yu & Dayan 2005)
    ``ach_plasticity``             ``learning_rate_scale *= 1 + k x/(1+x)`` and the ACh
                                   factor (depression, Brzosko et al. 2017) passed to rules;
                                   ``depression_bias = (1/(1+k_d x), 1 + k_d x)`` (LTP, LTD)
    ``ne_learning_rate``           ``learning_rate_scale *= 1 + k x_NE/(1+x_NE)`` (stale
                                   values after a change; Yu & Dayan 2005, Behrens 2007)
    ``ne_window``                  ``window_scale = 1 + k x_NE``: STDP time constants widen
    ``tonic_ne_temperature``       ``T = T0 (1 + k c_NEtonic)`` (Aston-Jones & Cohen 2005)
    ``serotonin_conversion``       5-HT factor passed to rules (converts the LTD trace,
                                   He et al. 2015); off -> 0
    ``dopamine_autoinhibition``    cross-talk: DA release x ``1/(1 + k x_DA)``
    ============================  =========================================================
    """

    ach_input_gain: bool = True
    ach_input_gain_per_unit: float = 1.0
    ach_recurrent_suppression_per_unit: float = 1.0
    ach_cue_discount: bool = True
    ach_cue_discount_per_unit: float = 1.0
    ach_plasticity: bool = True
    ach_learning_rate_per_unit: float = 1.0
    ach_depression_bias_per_unit: float = 1.0
    ne_learning_rate: bool = True
    ne_learning_rate_per_unit: float = 2.0
    ne_window: bool = True
    ne_window_widening_per_unit: float = 0.5
    tonic_ne_temperature: bool = True
    tonic_ne_temperature_per_unit: float = 1.0
    serotonin_conversion: bool = True
    dopamine_autoinhibition: bool = True
    dopamine_autoinhibition_per_unit: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in (bool, "bool"):
                _require(isinstance(value, (bool, np.bool_)),
                         f"NeuromodulatorEffects.{f.name} must be a bool, got {value!r}")
            else:
                _require(isinstance(value, (int, float)) and math.isfinite(value) and value >= 0,
                         f"NeuromodulatorEffects.{f.name} must be finite and >= 0, got {value!r}")

    # Each effect accepts scalars or arrays (levels per step / per network).
    def input_gain(self, ach):
        x = np.maximum(0.0, ach)
        return 1.0 + self.ach_input_gain_per_unit * x if self.ach_input_gain else np.ones_like(x) * 1.0

    def recurrent_gain(self, ach):
        x = np.maximum(0.0, ach)
        if not self.ach_input_gain:
            return np.ones_like(x) * 1.0
        return 1.0 / (1.0 + self.ach_recurrent_suppression_per_unit * x)

    def cue_weight(self, ach):
        x = np.maximum(0.0, ach)
        if not self.ach_cue_discount:
            return np.ones_like(x) * 1.0
        return 1.0 / (1.0 + self.ach_cue_discount_per_unit * x)

    def learning_rate_scale(self, ach=0.0, ne=0.0):
        """Saturating boost of all conversions by ACh (encoding) and phasic NE (surprise)."""
        a = np.maximum(0.0, ach)
        n = np.maximum(0.0, ne)
        scale = np.ones(np.broadcast(a, n).shape)
        if self.ach_plasticity:
            scale = scale * (1.0 + self.ach_learning_rate_per_unit * a / (1.0 + a))
        if self.ne_learning_rate:
            scale = scale * (1.0 + self.ne_learning_rate_per_unit * n / (1.0 + n))
        return scale if scale.shape else float(scale)

    def depression_bias(self, ach):
        """``(ltp_scale, ltd_scale)`` for rules with separate LTP / LTD parts."""
        x = np.maximum(0.0, ach)
        if not self.ach_plasticity:
            one = np.ones_like(x) * 1.0
            return one, one
        k = self.ach_depression_bias_per_unit
        return 1.0 / (1.0 + k * x), 1.0 + k * x

    def window_scale(self, ne):
        x = np.maximum(0.0, ne)
        return 1.0 + self.ne_window_widening_per_unit * x if self.ne_window else np.ones_like(x) * 1.0

    def action_temperature(self, base_temperature, tonic_ne):
        _require(np.all(np.asarray(base_temperature) > 0),
                 f"base_temperature must be > 0, got {base_temperature!r}")
        x = np.maximum(0.0, tonic_ne)
        if not self.tonic_ne_temperature:
            return base_temperature * np.ones_like(x)
        return base_temperature * (1.0 + self.tonic_ne_temperature_per_unit * x)

    def serotonin_factor(self, ht):
        x = np.maximum(0.0, ht)
        return x if self.serotonin_conversion else np.zeros_like(x)

    def dopamine_release_scale(self, da_above_baseline):
        x = np.maximum(0.0, da_above_baseline)
        if not self.dopamine_autoinhibition:
            return np.ones_like(x) * 1.0
        return 1.0 / (1.0 + self.dopamine_autoinhibition_per_unit * x)

    def conversion_factors(self, levels: Mapping[str, object], dopamine_factor=None) -> dict:
        """Per-step factors ``M`` the engine multiplies with eligibility (conversion gains
        of the rule apply on top), from modulator levels above baseline:

        ``DA``  = dopamine_factor x learning_rate_scale(ACh, NE)
        ``NE``  = x_NE x learning_rate_scale(ACh, 0)   (NE itself converts LTP traces)
        ``ACh`` = x_ACh if ach_plasticity else 0       (rules give it a depression gain)
        ``5HT`` = serotonin_conversion(x_5HT)

        ``dopamine_factor`` defaults to ``levels["DA"]``. Missing levels count as 0.
        """
        def get(name):
            return np.asarray(levels.get(name, 0.0), dtype=np.float64)

        ach = np.maximum(0.0, get(ACH))
        ne = np.maximum(0.0, get(NE))
        da = get(DA) if dopamine_factor is None else np.asarray(dopamine_factor, dtype=np.float64)
        out = {
            DA: da * self.learning_rate_scale(ach, ne),
            NE: ne * self.learning_rate_scale(ach, 0.0),
            ACH: ach if self.ach_plasticity else np.zeros_like(ach),
            SEROTONIN: self.serotonin_factor(get(SEROTONIN)),
        }
        return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


_THIRD_FACTORS = ("relative_to_baseline", "concentration", "signed_rpe")


@dataclass
class NeuromodulatorSystem:
    """All modulators of one agent, stepped together from the task's signals.

    Signals per step: ``rpe`` (reward prediction error) or ``reward`` drive DA (which one:
    ``dopamine_signal``, ``"rpe"`` or ``"reward"``: R-STDP and MSTDP papers use reward
    itself); ``novelty`` and ``uncertainty`` drive ACh (``ach_novelty_weight``,
    ``ach_uncertainty_weight``); ``surprise`` drives phasic NE; the drop of recent utility
    (reward averaged by :class:`UtilityMonitor`) drives tonic NE; ``serotonin`` drives 5-HT.

    ``dopamine_third_factor`` picks what DA passes to the rules: ``"relative_to_baseline"``
    (concentration - tonic, default), ``"concentration"`` (Izhikevich 2007: tonic DA
    converts too) or ``"signed_rpe"`` (the RPE of the step, unfiltered, fully signed).
    """

    dt_ms: float = 1.0
    kinetics: dict = field(default_factory=default_kinetics)
    effects: NeuromodulatorEffects = field(default_factory=NeuromodulatorEffects)
    dopamine_signal: str = "rpe"
    dopamine_third_factor: str = "relative_to_baseline"
    ach_novelty_weight: float = 1.0
    ach_uncertainty_weight: float = 0.5

    def __post_init__(self) -> None:
        _require(self.dopamine_signal in ("rpe", "reward"),
                 f"dopamine_signal must be 'rpe' or 'reward', got {self.dopamine_signal!r}")
        _require(self.dopamine_third_factor in _THIRD_FACTORS,
                 f"dopamine_third_factor must be one of {_THIRD_FACTORS}, "
                 f"got {self.dopamine_third_factor!r}")
        for name in ("ach_novelty_weight", "ach_uncertainty_weight"):
            value = getattr(self, name)
            _require(_is_finite_number(value) and value >= 0,
                     f"{name} must be a finite number >= 0, got {value!r}")
        _require(isinstance(self.effects, NeuromodulatorEffects),
                 f"effects must be a NeuromodulatorEffects, got {self.effects!r}")
        missing = {DA, ACH, NE, NE_TONIC, SEROTONIN} - set(self.kinetics)
        _require(not missing, f"kinetics missing for {sorted(missing)}")
        self.modulators = {name: Neuromodulator(k, self.dt_ms) for name, k in self.kinetics.items()}
        self.utility = UtilityMonitor(self.dt_ms)
        self._last_rpe = 0.0

    def reset(self) -> None:
        for m in self.modulators.values():
            m.reset()
        self.utility = UtilityMonitor(self.dt_ms)
        self._last_rpe = 0.0

    def step(self, *, rpe: float = 0.0, reward: float = 0.0, novelty: float = 0.0,
             uncertainty: float = 0.0, surprise: float = 0.0, serotonin: float = 0.0,
             priming: float = 0.0) -> dict:
        """Advance every modulator by one step; returns the concentrations by name."""
        for name, value in (("rpe", rpe), ("reward", reward), ("novelty", novelty),
                            ("uncertainty", uncertainty), ("surprise", surprise),
                            ("serotonin", serotonin), ("priming", priming)):
            _require(_is_finite_number(value), f"signal {name} must be a finite number, got {value!r}")
        m = self.modulators
        da_signal = rpe if self.dopamine_signal == "rpe" else reward
        scale = 1.0
        if da_signal > 0:  # autoreceptors damp bursts, not dips
            scale = float(self.effects.dopamine_release_scale(m[DA].relative_level))
        m[DA].step(da_signal, release_scale=scale)
        m[ACH].step(self.ach_novelty_weight * novelty + self.ach_uncertainty_weight * uncertainty)
        m[NE].step(surprise)
        m[NE_TONIC].step(self.utility.step(reward))
        m[SEROTONIN].step(serotonin)
        if PRIMING in m:
            m[PRIMING].step(priming)
        self._last_rpe = float(rpe)
        return self.levels

    @property
    def levels(self) -> dict:
        return {name: mod.concentration for name, mod in self.modulators.items()}

    def above_baseline(self) -> dict:
        return {name: max(0.0, mod.relative_level) for name, mod in self.modulators.items()}

    def dopamine_factor(self) -> float:
        if self.dopamine_third_factor == "signed_rpe":
            return self._last_rpe
        if self.dopamine_third_factor == "concentration":
            return self.modulators[DA].concentration
        return self.modulators[DA].relative_level

    def conversion_factors(self) -> dict:
        """Third factors of this step for the engine (``Modulator(name, tau_ms=0)`` + release)."""
        return self.effects.conversion_factors(self.above_baseline(),
                                               dopamine_factor=self.dopamine_factor())

    def action_temperature(self, base_temperature: float) -> float:
        return float(self.effects.action_temperature(base_temperature,
                                                     self.modulators[NE_TONIC].concentration))
