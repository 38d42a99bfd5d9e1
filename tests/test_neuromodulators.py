"""Neuromodulator kinetics and effect switches (agents/neuromodulators.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agents.neuromodulators import (
    ACH, DA, NE, NE_TONIC, PRIMING, SEROTONIN, ModulatorKinetics, Neuromodulator,
    NeuromodulatorEffects, NeuromodulatorSystem, UtilityMonitor, acetylcholine,
    default_kinetics, dopamine, phasic_norepinephrine, time_course,
)


def test_impulse_without_rise_decays_exponentially_from_its_peak():
    kin = dopamine(tonic_baseline=0.0, decay_tau_ms=200.0)
    s = np.zeros(2000)
    s[100] = 0.5
    c = time_course(kin, s)
    assert c[99] == 0.0 and c[100] == pytest.approx(0.5)
    assert c[300] == pytest.approx(0.5 * math.exp(-1.0), rel=1e-12)


def test_impulse_with_rise_and_delay_peaks_at_amount_after_delay():
    kin = ModulatorKinetics("X", release_delay_ms=100.0, rise_tau_ms=50.0, decay_tau_ms=500.0)
    s = np.zeros(4000)
    s[0] = 2.0
    c = time_course(kin, s, dt_ms=0.5)
    assert np.all(c[:200] == 0.0)  # nothing before the release delay (200 steps of 0.5 ms)
    t_peak = math.log(500 / 50) * 500 * 50 / 450
    assert np.argmax(c) * 0.5 == pytest.approx(100 + t_peak, abs=1.0)
    assert c.max() == pytest.approx(2.0, rel=1e-3)


def test_level_drive_relaxes_to_baseline_plus_gain_times_signal():
    kin = acetylcholine(tonic_baseline=0.1, phasic_gain=2.0)
    c = time_course(kin, np.full(20000, 0.3))
    assert c[-1] == pytest.approx(0.1 + 0.6, rel=1e-6)
    assert c[0] < 0.11  # rises with the kinetics, not at once


def test_stateful_step_equals_vectorised_time_course():
    rng = np.random.default_rng(0)
    for kin in (dopamine(), acetylcholine(), phasic_norepinephrine()):
        signal = np.where(rng.random(3000) < 0.01, rng.normal(0.0, 1.0, 3000), 0.0)
        mod = Neuromodulator(kin)
        stepped = np.array([mod.step(x) for x in signal])
        np.testing.assert_allclose(stepped, time_course(kin, signal), rtol=0, atol=1e-12)


def test_concentration_is_never_negative_and_relative_level_is_signed():
    kin = dopamine(tonic_baseline=0.2)
    mod = Neuromodulator(kin)
    mod.step(-1.0)  # negative RPE: a dip
    assert mod.concentration == 0.0
    assert mod.relative_level == pytest.approx(-0.2)
    for _ in range(4000):
        mod.step(0.0)
    assert mod.concentration == pytest.approx(0.2, rel=1e-7)


@pytest.mark.parametrize("bad", [dict(decay_tau_ms=-1.0), dict(decay_tau_ms=math.nan),
                                 dict(rise_tau_ms=300.0, decay_tau_ms=200.0),
                                 dict(release_delay_ms=-5.0), dict(tonic_baseline=-0.1),
                                 dict(phasic_gain=math.inf), dict(drive="pulse")])
def test_bad_kinetics_are_refused_naming_the_field(bad):
    with pytest.raises(ValueError) as err:
        ModulatorKinetics("X", **bad)
    assert any(key in str(err.value) for key in bad)


def test_bad_signals_are_refused():
    with pytest.raises(ValueError, match="finite"):
        Neuromodulator(dopamine()).step(math.nan)
    with pytest.raises(ValueError, match="finite"):
        time_course(dopamine(), [0.0, math.inf])
    with pytest.raises(ValueError, match="dopamine_signal"):
        NeuromodulatorSystem(dopamine_signal="money")


# ---- one test per effect switch: off removes the effect, on produces it -------------------
OFF = NeuromodulatorEffects(ach_input_gain=False, ach_cue_discount=False, ach_plasticity=False,
                            ne_learning_rate=False, ne_window=False,
                            tonic_ne_temperature=False, serotonin_conversion=False,
                            dopamine_autoinhibition=False)
ON = NeuromodulatorEffects()


def test_switch_ach_input_gain():
    assert ON.input_gain(0.5) > 1.0 and ON.recurrent_gain(0.5) < 1.0
    assert ON.input_gain(0.0) == 1.0
    assert OFF.input_gain(0.5) == 1.0 and OFF.recurrent_gain(0.5) == 1.0


def test_switch_ach_cue_discount():
    assert ON.cue_weight(1.0) < ON.cue_weight(0.2) < 1.0
    assert OFF.cue_weight(1.0) == 1.0


def test_switch_ach_learning_rate_and_depression_bias():
    assert ON.learning_rate_scale(ach=1.0) > 1.0
    ltp, ltd = ON.depression_bias(1.0)
    assert ltp < 1.0 < ltd
    assert ON.conversion_factors({ACH: 0.7})[ACH] == pytest.approx(0.7)
    assert OFF.learning_rate_scale(ach=1.0) == 1.0
    assert OFF.depression_bias(1.0) == (1.0, 1.0)
    assert OFF.conversion_factors({ACH: 0.7})[ACH] == 0.0


def test_switch_phasic_ne_learning_rate_saturates():
    assert 1.0 < ON.learning_rate_scale(ne=0.5) < ON.learning_rate_scale(ne=5.0) < 3.0
    assert ON.conversion_factors({DA: 0.2, NE: 1.0})[DA] > 0.2
    assert OFF.learning_rate_scale(ne=5.0) == 1.0
    assert OFF.conversion_factors({DA: 0.2, NE: 1.0})[DA] == pytest.approx(0.2)


def test_switch_phasic_ne_window():
    assert ON.window_scale(1.0) > 1.0 and ON.window_scale(0.0) == 1.0
    assert OFF.window_scale(1.0) == 1.0


def test_switch_tonic_ne_temperature():
    assert ON.action_temperature(0.5, 1.0) > ON.action_temperature(0.5, 0.0) == 0.5
    assert OFF.action_temperature(0.5, 1.0) == 0.5
    with pytest.raises(ValueError, match="base_temperature"):
        ON.action_temperature(0.0, 1.0)


def test_switch_serotonin_conversion():
    assert ON.conversion_factors({SEROTONIN: 0.4})[SEROTONIN] == pytest.approx(0.4)
    assert OFF.conversion_factors({SEROTONIN: 0.4})[SEROTONIN] == 0.0


def test_effects_refuse_bad_gains():
    with pytest.raises(ValueError, match="ne_learning_rate_per_unit"):
        NeuromodulatorEffects(ne_learning_rate_per_unit=math.nan)
    with pytest.raises(ValueError, match="ach_input_gain"):
        NeuromodulatorEffects(ach_input_gain="yes")


# ---- the system: signals -> concentrations, cross-talk, tonic NE --------------------------
def _reward_train(effects, n_rewards=20):
    system = NeuromodulatorSystem(effects=effects)
    peaks = []
    for _ in range(n_rewards):
        system.step(rpe=1.0)
        peaks.append(system.levels[DA])
        for _ in range(49):  # rewards every 50 ms: faster than DA clearance (200 ms)
            system.step()
    return np.array(peaks)


def test_dopamine_autoinhibition_keeps_repeated_bursts_bounded():
    damped = _reward_train(ON)
    free = _reward_train(OFF)
    increments_damped = np.diff(damped)
    assert free[-1] > 3.5  # without cross-talk: accumulates toward 1/(1 - e^{-1/4}) ~ 4.5
    assert damped[-1] < 0.6 * free[-1]
    assert increments_damped[-1] < increments_damped[0]


def test_system_routes_each_signal_to_its_modulator():
    system = NeuromodulatorSystem()
    for _ in range(300):
        levels = system.step(novelty=1.0)
    assert levels[ACH] > 0.1 and levels[NE] == 0.0
    system.reset()
    system.step(surprise=1.0)
    for _ in range(200):
        levels = system.step()
    assert levels[NE] > 0.1 and levels[ACH] == 0.0
    factors = system.conversion_factors()
    assert set(factors) == {DA, ACH, NE, SEROTONIN}


def test_tonic_ne_rises_when_recent_utility_falls_and_heats_action_selection():
    system = NeuromodulatorSystem(dt_ms=10.0)
    for _ in range(30_000):  # 300 s of steady reward
        system.step(reward=0.01)
    before = system.levels[NE_TONIC]
    t_before = system.action_temperature(1.0)
    for _ in range(2_000):  # 20 s without reward
        system.step(reward=0.0)
    assert system.levels[NE_TONIC] > before + 0.5
    assert system.action_temperature(1.0) > t_before


def test_utility_monitor_is_zero_for_steady_reward():
    monitor = UtilityMonitor(dt_ms=100.0)
    for _ in range(10_000):
        drop = monitor.step(1.0)
    assert drop == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="short_tau_ms"):
        UtilityMonitor(short_tau_ms=100.0, long_tau_ms=10.0)


def test_default_kinetics_cover_every_named_modulator():
    assert set(default_kinetics()) == {DA, ACH, NE, NE_TONIC, SEROTONIN, PRIMING}
