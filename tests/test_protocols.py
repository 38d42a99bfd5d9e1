"""Timing as a first-class variable: in-silico slice experiments (agents/protocols.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agents.neuromodulators import NeuromodulatorEffects, default_kinetics, dopamine
from agents.protocols import (
    ModulatorPulse, PairingProtocol, run_protocol, run_protocols, sweep_modulator_delay,
)
from agents.rules import get_rule

SINGLE_PAIRING = PairingProtocol(offset_ms=10.0)  # pre at -10 ms, post at 0


def _da_kinetics(tau_ms=200.0):
    kin = default_kinetics()
    kin["DA"] = dopamine(tonic_baseline=0.0, decay_tau_ms=tau_ms, rise_tau_ms=0.0)
    return kin


def test_exponential_kernel_ratios():
    """R-STDP, tau_c = 1 s, tau_DA = 0.2 s, tonic DA = 0, bounds that never bind, t = 0 at
    the jump of the eligibility, one DA pulse at delay d: dw(d)/dw(0) within 5 % of
    exp(-d/tau_c) (d >= 0) and exp(d/tau_DA) (d < 0)."""
    rule = get_rule("exponential", eligibility_tau_ms=1000.0, w_min=-1e3, w_max=1e3)
    delays = np.array([0.0, 1000.0, 2000.0, 5000.0, -1000.0])
    _, dw = sweep_modulator_delay(rule, SINGLE_PAIRING, "DA", delays, amount=0.5,
                                  kinetics=_da_kinetics())
    expected = np.array([1.0, math.exp(-1), math.exp(-2), math.exp(-5), math.exp(-1 / 0.2)])
    assert dw[0] > 0
    np.testing.assert_allclose(dw / dw[0], expected, rtol=0.05)


YAGISHITA_DELAYS = np.array([-1000, -500, 0, 150, 300, 450, 600, 800, 1000, 1300, 1600, 2000,
                             3000, 5000], dtype=float)


def _passes_yagishita_window(dw):
    peak = dw.max()
    at = dict(zip(YAGISHITA_DELAYS, dw))
    t_peak = YAGISHITA_DELAYS[np.argmax(dw)]
    return (peak > 0 and 300 <= t_peak <= 2000 and at[0.0] <= 0.5 * peak
            and at[-1000.0] <= 0.1 * peak and at[5000.0] <= 0.1 * peak)


def test_yagishita_window_holds_for_its_preset_and_not_for_the_exponential_one():
    kin = _da_kinetics()
    _, dw = sweep_modulator_delay(get_rule("yagishita"), SINGLE_PAIRING, "DA", YAGISHITA_DELAYS,
                                  kinetics=kin)
    assert _passes_yagishita_window(dw), dw / dw.max()
    _, dw_exp = sweep_modulator_delay(get_rule("exponential", w_min=-1e3, w_max=1e3),
                                      SINGLE_PAIRING, "DA", YAGISHITA_DELAYS, kinetics=kin)
    assert not _passes_yagishita_window(dw_exp)


BRZOSKO_PAIRING = PairingProtocol(offset_ms=-20.0, n_pairings=20, rate_hz=1.0)
ACH_DURING_PAIRING = ModulatorPulse("ACh", -19_500.0, 1.0, duration_ms=20_000.0)


def test_brzosko_ach_depresses_and_da_after_converts_to_potentiation():
    rule = get_rule("brzosko")
    da = lambda d: ModulatorPulse("DA", d, 1.0, duration_ms=1000.0)  # noqa: E731
    res = run_protocols(rule, BRZOSKO_PAIRING,
                        [[ACH_DURING_PAIRING], [ACH_DURING_PAIRING, da(0.0)],
                         [ACH_DURING_PAIRING, da(500.0)], [ACH_DURING_PAIRING, da(10_000.0)]])
    ach_only, da_now, da_soon, da_late = res.dw
    assert ach_only < -0.05            # ACh during post-before-pre pairing: depression
    assert da_now > 0.05 and da_soon > 0.05   # DA within the window: potentiation
    assert da_late < 0.9 * ach_only          # DA after the window: the depression stays
    assert da_late < -0.05


def test_brzosko_conversion_window_is_exp_of_delay_over_tau_e():
    """Conversion strength (dw with DA - dw with ACh alone) vs DA delay falls as
    exp(-d / tau_e), tau_e = eligibility_tau_ms (no ACh learning-rate boost, so the
    documented window is exact)."""
    rule = get_rule("brzosko")
    effects = NeuromodulatorEffects(ach_learning_rate_per_unit=0.0)
    delays = [0.0, 1000.0, 2000.0, 4000.0]
    scheds = [[ACH_DURING_PAIRING]] + [
        [ACH_DURING_PAIRING, ModulatorPulse("DA", d, 1.0, 1000.0)] for d in delays]
    dw = run_protocols(rule, BRZOSKO_PAIRING, scheds, effects=effects).dw
    conversion = dw[1:] - dw[0]
    tau_e = 2000.0
    np.testing.assert_allclose(conversion / conversion[0], np.exp(-np.array(delays) / tau_e),
                               rtol=0.02)


HE_PROTOCOL = "20 pairings at 1 Hz, +-10 ms; modulator bath 1.0 for 5 s right after"


@pytest.mark.parametrize("offset, modulator, sign", [(10.0, "NE", +1), (-10.0, "5HT", -1)])
def test_he_traces_are_converted_by_their_monoamine_only(offset, modulator, sign):
    rule = get_rule("he")  # w = 1: dw is the relative change
    pairing = PairingProtocol(offset, n_pairings=20, rate_hz=1.0)
    other = "5HT" if modulator == "NE" else "NE"
    res = run_protocols(rule, pairing, [[], [ModulatorPulse(modulator, 0.0, 1.0, 5000.0)],
                                        [ModulatorPulse(other, 0.0, 1.0, 5000.0)]])
    none, right, wrong = res.dw
    assert none == 0.0                      # pairing alone: a silent trace
    assert sign * right > 0.10              # LTP > +10 % / LTD < -10 %
    assert wrong == 0.0                     # the other monoamine finds no trace


@pytest.mark.parametrize("offset, modulator, tau", [(10.0, "NE", 5000.0), (-10.0, "5HT", 2500.0)])
def test_he_conversion_falls_with_delay_along_the_trace_lifetime(offset, modulator, tau):
    rule = get_rule("he")
    pairing = PairingProtocol(offset, n_pairings=20, rate_hz=1.0)
    delays = np.array([0.0, 2000.0, 5000.0, 10_000.0])
    _, dw = sweep_modulator_delay(rule, pairing, modulator, delays, duration_ms=5000.0)
    np.testing.assert_allclose(dw / dw[0], np.exp(-delays / tau), rtol=0.02)


def test_mstdp_et_reproduces_florians_closed_form():
    """pre at 0, post at Delta = 10 ms, constant reward r from the post spike on:
    w(t) - w0 = gamma r A+ exp(-Delta/tau+) (1 - exp(-(t - Delta)/tau_z))."""
    gamma, r, a_plus = 0.01, 0.5, 1.0
    for dt in (1.0, 0.1):
        rule = get_rule("mstdp_et", learning_rate=gamma, w_min=-1.0, w_max=2.0)
        t_after = 40.0  # ms after the post spike
        kin = default_kinetics()
        res = run_protocol(rule, SINGLE_PAIRING, [ModulatorPulse("DA", 0.0, r, t_after + dt)],
                           kinetics={**kin, "DA": dopamine(tonic_baseline=0.0, decay_tau_ms=1e-3)},
                           dt_ms=dt, duration_ms=None, effects=NeuromodulatorEffects())
        # exact discrete form: z jumps by zeta/tau_z at the post step, decays by a_z per step
        a_z = math.exp(-dt / 25.0)
        n = int(round(t_after / dt)) + 1
        z0 = a_plus * math.exp(-10.0 / 20.0) / 25.0
        discrete = gamma * r * dt * z0 * (1 - a_z ** n) / (1 - a_z)
        closed = gamma * r * a_plus * math.exp(-10.0 / 20.0) * (1 - math.exp(-t_after / 25.0))
        assert res.dw[0] == pytest.approx(discrete, rel=1e-6)
        assert res.dw[0] == pytest.approx(closed, rel=0.04 if dt == 1.0 else 0.004)


def test_phasic_ne_switches_learning_rate_and_window_in_a_protocol():
    rule = get_rule("exponential", w_min=-1e3, w_max=1e3)
    wide_pairing = PairingProtocol(offset_ms=40.0)
    schedule = [ModulatorPulse("NE", -600.0, 2.0, 2000.0), ModulatorPulse("DA", 200.0, 0.5)]
    off = NeuromodulatorEffects(ne_learning_rate=False, ne_window=False)
    lr_only = NeuromodulatorEffects(ne_window=False)
    window_only = NeuromodulatorEffects(ne_learning_rate=False)
    dw = [run_protocol(rule, wide_pairing, schedule, kinetics=_da_kinetics(), effects=e).dw[0]
          for e in (off, lr_only, window_only)]
    baseline = run_protocol(rule, wide_pairing, schedule[1:], kinetics=_da_kinetics(),
                            effects=NeuromodulatorEffects()).dw[0]
    assert dw[0] == pytest.approx(baseline)      # both switches off: NE does nothing
    assert dw[1] > 1.2 * dw[0]                  # learning rate up
    assert dw[2] > 1.2 * dw[0]                  # wider window: a 40 ms pairing counts more


def test_serotonin_switch_in_a_protocol():
    rule = get_rule("he")
    pairing = PairingProtocol(-10.0, n_pairings=20, rate_hz=1.0)
    sched = [ModulatorPulse("5HT", 0.0, 1.0, 5000.0)]
    on = run_protocol(rule, pairing, sched).dw[0]
    off = run_protocol(rule, pairing, sched,
                       effects=NeuromodulatorEffects(serotonin_conversion=False)).dw[0]
    assert on < -0.1 and off == 0.0


def test_ach_plasticity_switch_in_a_protocol():
    rule = get_rule("brzosko")
    on = run_protocol(rule, BRZOSKO_PAIRING, [ACH_DURING_PAIRING]).dw[0]
    off = run_protocol(rule, BRZOSKO_PAIRING, [ACH_DURING_PAIRING],
                       effects=NeuromodulatorEffects(ach_plasticity=False)).dw[0]
    assert on < -0.05 and off == 0.0


def test_protocol_bad_input():
    with pytest.raises(ValueError, match="rate_hz"):
        PairingProtocol(10.0, 5, rate_hz=0.0)
    with pytest.raises(ValueError, match="offset_ms"):
        PairingProtocol(1500.0, 5, rate_hz=1.0)
    with pytest.raises(ValueError, match="duration_ms"):
        ModulatorPulse("DA", 0.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="kinetics"):
        run_protocol(get_rule("rstdp"), SINGLE_PAIRING, [ModulatorPulse("GABA", 0.0)])
    with pytest.raises(ValueError, match="w_init"):
        run_protocol(get_rule("rstdp"), SINGLE_PAIRING, [], w_init=9.0)
