"""Issue 4 checks: neuromodulated plasticity timing, run as in-silico slice experiments.

Prints every definition-of-done check with PASS / FAIL and the measured numbers, and
writes ``docs/figures/plasticity_timing_curves.png`` (dw against modulator delay for the
timing presets) and ``docs/figures/plasticity_sign_table.png`` (sign and size of the
weight change for each pairing order x modulator schedule x rule).

    python scripts/plasticity_protocols.py [--out docs/figures]

Exit status 1 if any check fails. Runs in a few seconds after numba's first compile.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from agents.neuromodulators import NeuromodulatorEffects, default_kinetics, dopamine  # noqa: E402
from agents.protocols import (  # noqa: E402
    ModulatorPulse, PairingProtocol, plot_sign_table, plot_timing_curve, run_protocol,
    run_protocols, sweep_modulator_delay,
)
from agents.rules import get_rule  # noqa: E402

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, bool(ok), detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")


def da_kinetics():
    kin = default_kinetics()
    kin["DA"] = dopamine(tonic_baseline=0.0, decay_tau_ms=200.0)
    return kin


SINGLE = PairingProtocol(offset_ms=10.0)
TRAIN_POST_PRE = PairingProtocol(offset_ms=-20.0, n_pairings=20, rate_hz=1.0)
ACH_BATH = ModulatorPulse("ACh", -19_500.0, 1.0, 20_000.0)


def exponential_ratios():
    rule = get_rule("exponential", eligibility_tau_ms=1000.0, w_min=-1e3, w_max=1e3)
    d = np.array([0.0, 1000.0, 2000.0, 5000.0, -1000.0])
    _, dw = sweep_modulator_delay(rule, SINGLE, "DA", d, amount=0.5, kinetics=da_kinetics())
    ratio = dw / dw[0]
    expected = np.exp(np.where(d >= 0, -d / 1000.0, d / 200.0))
    err = np.abs(ratio / expected - 1)
    check("exponential kernel dw(d)/dw(0), d = 1, 2, 5, -1 s", bool(np.all(err[1:] < 0.05)),
          "measured " + ", ".join(f"{r:.4f}" for r in ratio[1:]) + " vs "
          + ", ".join(f"{e:.4f}" for e in expected[1:]) + f" (max rel. err {err.max():.1e})")


YAG_DELAYS = np.array([-1500, -1000, -500, -250, 0, 150, 300, 450, 600, 800, 1000, 1300, 1600,
                       2000, 2500, 3000, 4000, 5000], dtype=float)


def window_summary(dw):
    at = dict(zip(YAG_DELAYS, dw))
    peak = dw.max()
    t_peak = YAG_DELAYS[np.argmax(dw)]
    ok = (300 <= t_peak <= 2000 and at[0.0] <= 0.5 * peak and at[-1000.0] <= 0.1 * peak
          and at[5000.0] <= 0.1 * peak)
    text = (f"peak at {t_peak / 1000:.2f} s, dw(0)/peak = {at[0.0] / peak:.2f}, "
            f"dw(-1 s)/peak = {at[-1000.0] / peak:.3f}, dw(5 s)/peak = {at[5000.0] / peak:.3f}")
    return ok, text


def yagishita(curves):
    kin = da_kinetics()
    _, dw = sweep_modulator_delay(get_rule("yagishita"), SINGLE, "DA", YAG_DELAYS, kinetics=kin)
    ok, text = window_summary(dw)
    check("Yagishita preset: window 0.3-2 s", ok, text)
    _, dw_exp = sweep_modulator_delay(get_rule("exponential", w_min=-1e3, w_max=1e3), SINGLE,
                                      "DA", YAG_DELAYS, kinetics=kin)
    ok_exp, text_exp = window_summary(dw_exp)
    check("plain exponential preset fails the Yagishita test", not ok_exp, text_exp)
    curves["yagishita"] = (YAG_DELAYS, dw)
    curves["exponential"] = (YAG_DELAYS, dw_exp)


def brzosko(curves):
    rule = get_rule("brzosko")
    delays = np.array([0, 500, 1000, 2000, 3000, 4000, 6000, 8000, 10_000], dtype=float)
    scheds = [[ACH_BATH]] + [[ACH_BATH, ModulatorPulse("DA", d, 1.0, 1000.0)] for d in delays]
    dw = run_protocols(rule, TRAIN_POST_PRE, scheds).dw
    ach_only, with_da = dw[0], dw[1:]
    check("Brzosko: ACh during post-before-pre pairings -> depression", ach_only < -0.05,
          f"dw/w = {ach_only:+.3f} (20 pairings at 1 Hz, -20 ms, ACh 1.0 during)")
    check("Brzosko: DA within the window after -> potentiation", with_da[0] > 0.05,
          f"DA 1.0 for 1 s at 0 s: dw/w = {with_da[0]:+.3f}; at 0.5 s: {with_da[1]:+.3f}")
    check("Brzosko: DA after the window -> depression stays", with_da[-1] < 0.9 * ach_only,
          f"DA at 10 s: dw/w = {with_da[-1]:+.3f}")
    flat = NeuromodulatorEffects(ach_learning_rate_per_unit=0.0)
    dw_flat = run_protocols(rule, TRAIN_POST_PRE, scheds, effects=flat).dw
    conv = dw_flat[1:] - dw_flat[0]
    err = np.max(np.abs(conv / conv[0] - np.exp(-delays / 2000.0)))
    check("Brzosko: conversion vs DA delay = exp(-d / 2 s) (documented window)", err < 0.02,
          f"max abs. deviation of the normalised curve {err:.1e}")
    curves["brzosko"] = (delays, with_da - ach_only)


def he(curves):
    rule = get_rule("he")
    delays = np.array([0, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000], dtype=float)
    for offset, mod, tau, sign in ((10.0, "NE", 5000.0, +1), (-10.0, "5HT", 2500.0, -1)):
        pairing = PairingProtocol(offset, n_pairings=20, rate_hz=1.0)
        _, dw = sweep_modulator_delay(rule, pairing, mod, delays, duration_ms=5000.0)
        label = "pre-before-post + NE -> LTP > +10 %" if sign > 0 else \
            "post-before-pre + 5-HT -> LTD < -10 %"
        check(f"He: {label}", sign * dw[0] > 0.10,
              f"dw/w = {dw[0]:+.3f} (20 pairings at 1 Hz, {offset:+.0f} ms, {mod} 1.0 for 5 s)")
        err = np.max(np.abs(dw / dw[0] - np.exp(-delays / tau)))
        check(f"He: {mod} conversion falls as exp(-delay / {tau / 1000:.1f} s)", err < 0.02,
              f"max abs. deviation {err:.1e}")
        curves[f"he_{mod}"] = (delays, dw)


def mstdp_et():
    gamma, r, t_after = 0.01, 0.5, 40.0
    rule = get_rule("mstdp_et", learning_rate=gamma, w_min=-1.0, w_max=2.0)
    kin = {**default_kinetics(), "DA": dopamine(tonic_baseline=0.0, decay_tau_ms=1e-3)}
    dt = 0.1
    res = run_protocol(rule, SINGLE, [ModulatorPulse("DA", 0.0, r, t_after + dt)], kinetics=kin,
                       dt_ms=dt)
    closed = gamma * r * math.exp(-10.0 / 20.0) * (1 - math.exp(-t_after / 25.0))
    rel = abs(res.dw[0] / closed - 1)
    check("MSTDP-ET closed form (pre 0, post 10 ms, r = 0.5 for 40 ms)", rel < 0.004,
          f"dw = {res.dw[0]:.6f} vs gamma r A+ e^(-D/tau+) (1 - e^(-T/tau_z)) = {closed:.6f} "
          f"(dt = 0.1 ms, rel. err {rel:.1e})")


def switches():
    rule = get_rule("exponential", w_min=-1e3, w_max=1e3)
    pairing = PairingProtocol(offset_ms=40.0)
    sched = [ModulatorPulse("NE", -600.0, 2.0, 2000.0), ModulatorPulse("DA", 200.0, 0.5)]
    kin = da_kinetics()
    off = run_protocol(rule, pairing, sched, kinetics=kin, effects=NeuromodulatorEffects(
        ne_learning_rate=False, ne_window=False)).dw[0]
    lr = run_protocol(rule, pairing, sched, kinetics=kin,
                      effects=NeuromodulatorEffects(ne_window=False)).dw[0]
    win = run_protocol(rule, pairing, sched, kinetics=kin,
                       effects=NeuromodulatorEffects(ne_learning_rate=False)).dw[0]
    check("switch: phasic NE learning rate", lr > 1.2 * off, f"dw {lr:.3f} on vs {off:.3f} off")
    check("switch: phasic NE window", win > 1.2 * off,
          f"40 ms pairing: dw {win:.3f} on vs {off:.3f} off")
    he_rule = get_rule("he")
    pp = PairingProtocol(-10.0, n_pairings=20, rate_hz=1.0)
    ht = [ModulatorPulse("5HT", 0.0, 1.0, 5000.0)]
    on5 = run_protocol(he_rule, pp, ht).dw[0]
    off5 = run_protocol(he_rule, pp, ht,
                        effects=NeuromodulatorEffects(serotonin_conversion=False)).dw[0]
    check("switch: 5-HT conversion", on5 < -0.1 and off5 == 0.0,
          f"dw/w {on5:+.3f} on vs {off5:+.3f} off")
    br = get_rule("brzosko")
    on_a = run_protocol(br, TRAIN_POST_PRE, [ACH_BATH]).dw[0]
    off_a = run_protocol(br, TRAIN_POST_PRE, [ACH_BATH],
                         effects=NeuromodulatorEffects(ach_plasticity=False)).dw[0]
    check("switch: ACh learning-rate / depression bias", on_a < -0.05 and off_a == 0.0,
          f"dw/w {on_a:+.3f} on vs {off_a:+.3f} off")
    eff_on, eff_off = NeuromodulatorEffects(), NeuromodulatorEffects(
        ach_input_gain=False, tonic_ne_temperature=False)
    check("switch: ACh input gain", eff_on.input_gain(1.0) > 1.0 == eff_off.input_gain(1.0),
          f"gain at ACh 1.0: {eff_on.input_gain(1.0):.2f} on vs {eff_off.input_gain(1.0):.2f} off")
    t_on, t_off = eff_on.action_temperature(1.0, 1.0), eff_off.action_temperature(1.0, 1.0)
    check("switch: tonic NE temperature", t_on > 1.0 == t_off,
          f"T at tonic NE 1.0: {t_on:.2f} on vs {t_off:.2f} off")


def priming(curves):
    """Metaplasticity: a weak pairing potentiates only after priming; decays with delay."""
    from agents.rules import RULES

    if "priming" not in RULES:
        print("SKIP  metaplasticity: the engine has no pairing thresholds yet")
        return
    rule = get_rule("priming")
    kin = da_kinetics()
    tau = kin["priming"].decay_tau_ms
    weak = PairingProtocol(offset_ms=10.0)
    strong = PairingProtocol(offset_ms=5.0, n_pairings=3, rate_hz=100.0)
    da = ModulatorPulse("DA", 500.0, 0.5)
    delays = np.array([500, 2000, 4000, 5500, 8000, 10_500, 12_000, 16_000, 20_000, 30_000],
                      dtype=float)
    dw = run_protocols(rule, weak, [[da]] + [[ModulatorPulse("priming", -d), da]
                                            for d in delays], kinetics=kin).dw
    alone, primed = dw[0], dw[1:]
    dw_strong = run_protocols(rule, strong, [[da]], kinetics=kin).dw[0]
    check("metaplasticity: weak pairing alone leaves w unchanged, primed 0.5 s before -> LTP",
          alone == 0.0 and primed[0] > 0.01,
          f"dw alone {alone:+.4f}, primed {primed[0]:+.4f}; strong pairing alone {dw_strong:+.4f}")
    i0, i1, i2 = 0, 3, 5  # delays 0.5 s, 5.5 s, 10.5 s: 0, tau/2, tau after the first
    ratio = (primed[i0] - primed[i1]) / (primed[i1] - primed[i2])
    check("metaplasticity: priming decays with delay along tau_prime = 10 s",
          abs(ratio / math.exp(0.5) - 1) < 1e-3 and primed[-1] == 0.0,
          f"(dw(0.5 s) - dw(5.5 s)) / (dw(5.5 s) - dw(10.5 s)) = {ratio:.4f} vs e^(1/2) = "
          f"{math.exp(0.5):.4f}; dw(30 s) = {primed[-1]:+.4f}")
    curves["priming"] = (delays, primed)


def sign_table() -> dict:
    """Relative dw for 20 pairings at 1 Hz (+-10 / 20 ms) per rule x modulator schedule."""
    rules = {
        "R-STDP": get_rule("exponential", a_plus=0.001, a_minus=-0.0012, w_min=0, w_max=2),
        "Brzosko": get_rule("brzosko"),
        "He": get_rule("he"),
    }
    schedules = {
        "none": [],
        "DA after": [ModulatorPulse("DA", 0.0, 1.0, 1000.0)],
        "ACh during": [ACH_BATH],
        "ACh then DA": [ACH_BATH, ModulatorPulse("DA", 0.0, 1.0, 1000.0)],
        "NE after": [ModulatorPulse("NE", 0.0, 1.0, 5000.0)],
        "5-HT after": [ModulatorPulse("5HT", 0.0, 1.0, 5000.0)],
    }
    table = {}
    for rname, rule in rules.items():
        for offset in (10.0, -20.0 if rname == "Brzosko" else -10.0):
            pairing = PairingProtocol(offset, n_pairings=20, rate_hz=1.0)
            dw = run_protocols(rule, pairing, list(schedules.values())).dw
            order = "pre->post" if offset > 0 else "post->pre"
            table[f"{rname} {order} ({offset:+.0f} ms)"] = dict(zip(schedules, dw / 1.0))
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/figures", help="figure folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    curves: dict = {}
    exponential_ratios()
    yagishita(curves)
    brzosko(curves)
    he(curves)
    mstdp_et()
    switches()
    priming(curves)

    n_panels = 4 if "priming" in curves else 3
    fig, axes = plt.subplots(1, n_panels, figsize=(4.4 * n_panels, 3.6))
    plot_timing_curve(*curves["exponential"], ax=axes[0], label="exponential (Izhikevich)")
    plot_timing_curve(*curves["yagishita"], ax=axes[0], label="Yagishita preset")
    axes[0].axvspan(0.3, 2.0, color="gold", alpha=0.2, lw=0)
    axes[0].set_title("DA pulse after one pre->post pairing", fontsize=9)
    plot_timing_curve(*curves["brzosko"], ax=axes[1], label="DA conversion (dw - dw_ACh)")
    axes[1].set_title("Brzosko: ACh during 20 post->pre pairings, then DA", fontsize=9)
    plot_timing_curve(*curves["he_NE"], ax=axes[2], label="NE after pre->post (LTP)",
                      normalise=False)
    plot_timing_curve(*curves["he_5HT"], ax=axes[2], label="5-HT after post->pre (LTD)",
                      normalise=False)
    axes[2].set_ylabel("dw / w")
    axes[2].set_title("He: 20 pairings at 1 Hz, +-10 ms, then 5 s bath", fontsize=9)
    if "priming" in curves:
        d, dw = curves["priming"]
        plot_timing_curve(-d, dw, ax=axes[3], label="weak pairing, DA at +0.5 s",
                          normalise=False)
        axes[3].set_xlabel("priming pulse time relative to the pairing (s)")
        axes[3].set_title("Priming: threshold shift decays (tau_prime 10 s)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "plasticity_timing_curves.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8.5, 4.2))
    plot_sign_table(sign_table(), ax=ax,
                    title="dw / w after 20 pairings at 1 Hz (modulator bath after / during)")
    fig.tight_layout()
    fig.savefig(out / "plasticity_sign_table.png", dpi=120)
    plt.close(fig)
    print(f"figures: {out / 'plasticity_timing_curves.png'}, {out / 'plasticity_sign_table.png'}")

    failed = [name for name, ok, _ in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
