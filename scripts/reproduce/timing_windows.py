#!/usr/bin/env python3
"""Timing windows of the rule presets against the slice literature (issue 7, item 4).

One in-silico slice experiment per rule (``agents/protocols.py``: one pre and one post
spike source with forced spike times, one plastic synapse, modulator schedules turned
into per-step third factors), dw measured against the delay of the modulator after the
pairing, and against the pairing order x modulator, next to the published window.
t = 0 is the later spike of the last pairing; delays are of the modulator onset, in s.

Rules, equations and parameters (details and units in each preset's docstring):

* Izhikevich (2007), Cerebral Cortex 17:2443, preset ``exponential`` (R-STDP with exact
  decays): c jumps by A+ exp(-dt/tau_stdp) at the pairing, decays with tau_c = 1 s;
  dw/dt = DA(t) c(t). One pairing (+10 ms), one DA pulse (peak 0.5, tau_DA = 200 ms,
  no tonic DA) at delay d: dw(d)/dw(0) = exp(-d/tau_c) (d >= 0), the model's own
  definition. Bounds widened to [-1e3, 1e3] so that they never bind.
* Yagishita et al. (2014), Science 345:1616, preset ``yagishita``: eligibility with a
  rise, K (exp(-t/tau_decay) - exp(-t/tau_rise)), tau_rise = 700 ms, tau_decay =
  1000 ms; same pairing and DA pulse (peak 1, tau_DA = 200 ms).
* Brzosko, Schultz & Paulsen (2015), eLife 4:e09685, preset ``brzosko``: symmetric
  coincidence trace c (tau_e = 2 s, a behavioural time scale), dw/dt = eta (g_DA DA -
  g_ACh ACh) c, eta = 2e-5 /ms, g_DA = 40, g_ACh = 1. 20 pairings at 1 Hz (post 20 ms
  before pre, or pre 20 ms before post), ACh bath 1.0 during them, DA bath 1.0 for 1 s
  starting at delay d.
* He et al. (2015), Neuron 88:528, preset ``he``: separate LTP (tau 5 s) and LTD (tau
  2.5 s) traces, dw/dt = eta (g_NE NE c_LTP - g_5HT 5HT c_LTD), eta = 3e-5 /ms,
  g_NE = 1, g_5HT = 3. 20 pairings at 1 Hz (+-10 ms), NE or 5-HT bath 1.0 for 5 s
  starting at delay d.

Published windows (PUBLISHED below; what is verified and what is not is said there):
read from the papers' abstracts / figure legends where they could be found offline;
approximate or unverified values are marked as such, never digitised magnitudes.

Criteria (the script prints them; PASS needs every counted one):

* Izhikevich: fitted e-folding time of dw(d)/dw(0), d in [0, 5] s, within 5 % of 1 s;
  every ratio within 5 % of exp(-d / 1 s); dw(-1 s) < 1 % of dw(0).
* Yagishita: peak delay in the published 0.3-2 s; dw(0) <= 0.5 peak; dw(-1 s) and dw at
  every tested delay >= 5 s below 10 % of the peak (the issue-4 window test,
  ``plasticity_protocols.window_summary``); dw at 0.6 s and 1 s (the delays with a
  significant enlargement in the paper) >= 50 % of the peak.
* Brzosko, sign: post->pre pairing with ACh and no DA depresses (dw < 0); DA right after
  converts it to potentiation (dw > 0); pre->post with DA after potentiates.
  Time scale: the conversion (dw - dw_no_DA) falls with an e-folding time within 25 %
  of the preset's documented tau_e = 2 s. The slice window (minutes) is NOT matched by
  design; the table says so and that row does not count toward the verdict.
* He: NE after pre->post potentiates (> +5 %), 5-HT after post->pre depresses
  (< -5 %), the crossed conditions (NE after post->pre, 5-HT after pre->post) and the
  pairings alone change w by less than 1 % of those effects (distinct traces). Window:
  the fitted e-folding time tau of each conversion lies in [T/4, T], T the published
  trace lifetime. Why that factor: a slice study reports a trace as gone at the first
  tested delay whose conversion is no longer significant; with effects of ~25 % and
  errors of ~5-10 % that happens once an exponential window has fallen to 1/3-1/10 of
  its peak, i.e. at T = 1-2.3 tau; the coarse grid of tested delays widens it to T/4.

The experiments are deterministic (forced spikes, no noise, no random draws), so there
are no seeds: one run is the result. ``--quick`` uses fewer delays (CI). ``--set
RULE.FIELD=VALUE`` overrides a preset parameter (rules: izhikevich, yagishita, brzosko,
he) to show that a criterion fails when the rule is broken.

    python scripts/reproduce/timing_windows.py
    python scripts/reproduce/timing_windows.py --quick --no-figure
    python scripts/reproduce/timing_windows.py --set yagishita.eligibility_rise_tau_ms=20

Prints the criteria, the measured numbers, one PASS / FAIL line per criterion, the table
(markdown, for BENCHMARKS.md) and writes ``docs/figures/timing_windows.png``; exit
status 1 on FAIL. About 4 s of CPU (numba cache warm); 12-16 s of wall time measured on
the shared 2-core host at load average ~10 (an upper bound).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent):  # the reproductions' model module, issue 4's checks
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

# after the path set-up: the reproductions' shared module (verdict, FIGURES) and issue 4's
# slice checks (their protocols, DA kinetics and Yagishita window test)
import izhikevich_2007_model as model
import numpy as np
import plasticity_protocols as slice_checks
from tqdm import tqdm

from agents.protocols import (
    ModulatorPulse,
    PairingProtocol,
    plot_timing_curve,
    run_protocols,
    sweep_modulator_delay,
)
from agents.rules import get_params

S = 1000.0  # ms per s

# --- what the papers report -------------------------------------------------------------
# Sources read offline (search tool, 2026-11-22): Yagishita 2014 abstract and Fig. 1
# legend (PMC4225776); Brzosko 2015 abstract and digest (PMC4626806); He 2015 summary
# and highlights (Neuron 88:528). Anything else is marked unverified.
PUBLISHED = {
    "izhikevich": {
        "tau_c_s": 1.0,
        "text": "dw ∝ exp(-d/tau_c), tau_c = 1 s (the model's definition; DA before the "
                "pairing meets no eligibility)",
    },
    "yagishita": {
        # abstract: "dopamine promoted spine enlargement only during a narrow time window
        # (0.3 to 2 seconds) after the glutamatergic inputs"
        "window_s": (0.3, 2.0),
        # Fig. 1 legend: significant vs STDP alone at 0.6 s (P = 0.0018) and 1 s (P = 0.0027)
        "significant_s": (0.6, 1.0),
        # Fig. 1 K-M show -1 s and 5 s; outside the 0.3-2 s window of the abstract, i.e.
        # no enlargement (inferred from the abstract; magnitudes not digitised)
        "ineffective_s": (-1.0, 5.0),
        "text": "DA 0.3-2 s after the pairing enlarges the spine (significant at 0.6 and "
                "1 s); none at -1 s or 5 s (delays from STDP onset; magnitudes not digitised)",
    },
    "brzosko": {
        # verified: DA applied AFTER post-before-pre pairing converts t-LTD into
        # potentiation (abstract). Unverified: the delays; recollection: a DA bath
        # starting ~1 min after the pairing converts, the window extending to minutes.
        "slice_delay_s": 60.0,
        "text": "t-LTD (post->pre) converted to t-LTP by DA applied after the pairing; "
                "slice delays ~1 min, window of minutes (delays unverified)",
    },
    "he": {
        # verified: distinct LTP / LTD traces set by Hebbian pairing, converted by
        # beta2-adrenergic (NE) and 5-HT2C receptors, "transient" (summary, highlights).
        # UNVERIFIED (the figures could not be read offline; recollection of secondary
        # summaries): LTP trace lifetime ~10 s, LTD trace ~3 s.
        "lifetime_s": {"LTP": 10.0, "LTD": 3.0},
        "text": "pre->post + NE -> LTP, post->pre + 5-HT -> LTD, traces transient "
                "(lifetimes ~10 s LTP / ~3 s LTD: unverified)",
    },
}

RULE_PRESETS = {"izhikevich": "exponential", "yagishita": "yagishita", "brzosko": "brzosko",
                "he": "he"}

# --- delays (ms) --------------------------------------------------------------------------
IZH_DELAYS = {"full": np.arange(-1500.0, 6001.0, 250.0),
              "quick": np.array([-1000.0, 0.0, 500.0, 1000.0, 2000.0, 3000.0, 5000.0])}
YAG_EXTRA = {"full": np.array([6000.0, 8000.0]), "quick": np.array([])}
BRZ_DELAYS = {"full": np.array([0, 250, 500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 10_000,
                                30_000, 60_000, 120_000], dtype=float),
              "quick": np.array([0, 1000, 2000, 4000, 10_000, 60_000], dtype=float)}
HE_DELAYS = {"full": np.array([0, 500, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000],
                              dtype=float),
             "quick": np.array([0, 2500, 5000, 10_000], dtype=float)}

BRZ_POST_PRE = slice_checks.TRAIN_POST_PRE                 # 20 at 1 Hz, post 20 ms before pre
BRZ_PRE_POST = PairingProtocol(offset_ms=20.0, n_pairings=20, rate_hz=1.0)
HE_PRE_POST = PairingProtocol(offset_ms=10.0, n_pairings=20, rate_hz=1.0)
HE_POST_PRE = PairingProtocol(offset_ms=-10.0, n_pairings=20, rate_hz=1.0)
HE_BATH_MS = 5000.0
BRZ_DA_BATH_MS = 1000.0


def da_after(delay_ms: float) -> ModulatorPulse:
    return ModulatorPulse("DA", delay_ms, 1.0, BRZ_DA_BATH_MS)


class Verdicts:
    """Collects (rule, criterion, counted, ok, detail) and prints each line as it comes."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, bool, bool, str]] = []

    def add(self, rule: str, name: str, ok: bool, detail: str, counted: bool = True) -> bool:
        self.rows.append((rule, name, counted, bool(ok), detail))
        tag = model.verdict(ok) if counted else ("MATCH" if ok else "MISMATCH")
        print(f"{tag:8s} {rule}: {name}: {detail}" + ("" if counted else "  (not counted)"))
        return bool(ok)

    def ok(self, rule: str | None = None) -> bool:
        return all(r[3] for r in self.rows if r[2] and (rule is None or r[0] == rule))


def efold_time_s(delays_ms, values) -> float:
    """e-folding time (s) of a positive, decaying window: least-squares slope of
    log(values) against the delay, over the delays where values > 0."""
    d = np.asarray(delays_ms, dtype=float)
    v = np.asarray(values, dtype=float)
    keep = v > 0
    if keep.sum() < 2:
        return math.nan
    slope = np.polyfit(d[keep] / S, np.log(v[keep]), 1)[0]
    return -1.0 / slope if slope < 0 else math.inf


def relative_to_first(values) -> np.ndarray:
    """``values / values[0]`` (the window normalised to delay 0); NaN if values[0] == 0,
    e.g. when a broken rule converts nothing (the criteria then fail, not crash)."""
    values = np.asarray(values, dtype=float)
    return values / values[0] if values[0] != 0 else np.full_like(values, np.nan)


def rule_for(name: str, overrides: dict, **defaults):
    """The preset of ``name`` (see RULE_PRESETS) with the script's protocol settings
    ``defaults`` and the user's ``--set`` overrides on top."""
    return get_params(RULE_PRESETS[name], **{**defaults, **overrides.get(name, {})}).build()


# --- the four experiments -------------------------------------------------------------------

def izhikevich(size, overrides, verdicts):
    rule = rule_for("izhikevich", overrides, eligibility_tau_ms=1000.0, w_min=-1e3, w_max=1e3)
    delays, dw = sweep_modulator_delay(rule, slice_checks.SINGLE, "DA", IZH_DELAYS[size],
                                       amount=0.5, kinetics=slice_checks.da_kinetics())
    at = dict(zip(delays, dw))
    ratio = dw / at[0.0] if at[0.0] != 0 else np.full_like(dw, np.nan)  # dw(d) / dw(0)
    tau_pub = PUBLISHED["izhikevich"]["tau_c_s"]
    after = (delays >= 0) & (delays <= 5 * S)
    tau = efold_time_s(delays[after], ratio[after])
    dev = np.max(np.abs(ratio[after] / np.exp(-delays[after] / (tau_pub * S)) - 1))
    before = ratio[delays == -1000.0][0]
    ok = bool(at[0.0] > 0) and abs(tau / tau_pub - 1) < 0.05 and dev < 0.05 and before < 0.01
    measured = (f"fitted tau_c = {tau:.3f} s; max rel. deviation from exp(-d/1 s) over "
                f"0-5 s {dev:.1e}; dw(1 s)/dw(0) = {ratio[delays == 1000.0][0]:.4f}, "
                f"dw(-1 s)/dw(0) = {before:.4f}")
    verdicts.add("izhikevich", "exp(-d / 1 s) window", ok, measured)
    return {"delays": delays, "dw": dw, "measured": measured}


def yagishita(size, overrides, verdicts):
    rule = rule_for("yagishita", overrides)
    delays = np.concatenate([slice_checks.YAG_DELAYS, YAG_EXTRA[size]])
    _, dw = sweep_modulator_delay(rule, slice_checks.SINGLE, "DA", delays,
                                  kinetics=slice_checks.da_kinetics())
    # issue 4's window test (peak in 0.3-2 s, dw(0) <= 0.5, dw(-1 s), dw(5 s) <= 0.1 peak)
    ok_window, text = slice_checks.window_summary(dw[:len(slice_checks.YAG_DELAYS)])
    peak = dw.max()
    at = dict(zip(delays, dw))
    late = dw[delays >= 5 * S].max() / peak
    sig = [at[d * S] / peak for d in PUBLISHED["yagishita"]["significant_s"]]
    ok = peak > 0 and ok_window and late < 0.1 and min(sig) >= 0.5
    measured = (f"{text}; max dw(d >= 5 s)/peak = {late:.3f}; dw(0.6 s), dw(1 s) = "
                f"{sig[0]:.2f}, {sig[1]:.2f} peak")
    verdicts.add("yagishita", "0.3-2 s window", ok, measured)
    return {"delays": delays, "dw": dw, "measured": measured}


def brzosko(size, overrides, verdicts):
    rule = rule_for("brzosko", overrides)
    ach = slice_checks.ACH_BATH
    delays = BRZ_DELAYS[size]
    post_pre = run_protocols(rule, BRZ_POST_PRE, [[ach]] + [[ach, da_after(d)] for d in delays]).dw
    no_da, with_da = post_pre[0], post_pre[1:]
    pre_post = run_protocols(rule, BRZ_PRE_POST, [[ach], [ach, da_after(0.0)]]).dw
    signs = {"post->pre, ACh, no DA": no_da, "post->pre, ACh, DA at 0 s": with_da[0],
             "pre->post, ACh, no DA": pre_post[0], "pre->post, ACh, DA at 0 s": pre_post[1]}
    ok_sign = no_da < 0 and with_da[0] > 0 and pre_post[1] > 0
    sign_text = ", ".join(f"{k}: {v:+.3f}" for k, v in signs.items())
    verdicts.add("brzosko", "sign (dw/w, 20 pairings at 1 Hz, +-20 ms)", ok_sign, sign_text)

    conversion = with_da - no_da
    conv_rel = relative_to_first(conversion)
    # the preset's DOCUMENTED window (module docstring), not its field: an override of the
    # field must be able to fail this
    documented_tau = 2.0  # s
    fit_range = delays <= 10 * S
    tau = efold_time_s(delays[fit_range], conv_rel[fit_range])
    ok_tau = abs(tau / documented_tau - 1) < 0.25
    verdicts.add("brzosko", "conversion window vs the documented tau_e = 2 s", ok_tau,
                 f"fitted e-folding time of (dw - dw_no_DA) = {tau:.2f} s")
    slice_delay = PUBLISHED["brzosko"]["slice_delay_s"] * S
    i = int(np.argmin(np.abs(delays - slice_delay)))
    converts_at_slice_delay = with_da[i] > 0
    verdicts.add("brzosko", "slice time scale (DA ~1 min after still converts)",
                 converts_at_slice_delay,
                 f"DA at {delays[i] / S:.0f} s: dw/w = {with_da[i]:+.3f} (no DA {no_da:+.3f}); "
                 f"conversion {conv_rel[i]:.1e} of its value at 0 s", counted=False)
    measured = (f"post->pre no DA {no_da:+.3f}, DA at 0 s {with_da[0]:+.3f}; pre->post + DA "
                f"{pre_post[1]:+.3f}; conversion e-fold {tau:.2f} s; DA at "
                f"{delays[i] / S:.0f} s: {with_da[i]:+.3f}")
    return {"delays": delays, "conversion": conversion, "with_da": with_da, "no_da": no_da,
            "tau": tau, "signs": signs, "measured": measured}


def he(size, overrides, verdicts):
    rule = rule_for("he", overrides)
    bath = lambda name, d: ModulatorPulse(name, d, 1.0, HE_BATH_MS)
    table = {}
    for label, pairing in (("pre->post", HE_PRE_POST), ("post->pre", HE_POST_PRE)):
        dw = run_protocols(rule, pairing, [[], [bath("NE", 0.0)], [bath("5HT", 0.0)]]).dw
        table[label] = dict(zip(("alone", "NE after", "5-HT after"), dw))
    ltp, ltd = table["pre->post"]["NE after"], table["post->pre"]["5-HT after"]
    crossed = max(abs(table["pre->post"]["alone"]), abs(table["post->pre"]["alone"]),
                  abs(table["pre->post"]["5-HT after"]), abs(table["post->pre"]["NE after"]))
    ok_sign = ltp > 0.05 and ltd < -0.05 and crossed < 0.01 * min(abs(ltp), abs(ltd))
    verdicts.add("he", "sign and specificity (dw/w, 20 pairings at 1 Hz, +-10 ms, 5 s bath)",
                 ok_sign, f"pre->post + NE {ltp:+.3f}, post->pre + 5-HT {ltd:+.3f}; largest "
                 f"|dw| of pairing alone / crossed modulator {crossed:.1e}")
    delays = HE_DELAYS[size]
    windows, taus = {}, {}
    for trace, pairing, mod in (("LTP", HE_PRE_POST, "NE"), ("LTD", HE_POST_PRE, "5HT")):
        _, dw = sweep_modulator_delay(rule, pairing, mod, delays, duration_ms=HE_BATH_MS)
        windows[trace] = dw
        taus[trace] = efold_time_s(delays, relative_to_first(dw))
        lifetime = PUBLISHED["he"]["lifetime_s"][trace]
        ok = lifetime / 4 <= taus[trace] <= lifetime
        verdicts.add("he", f"{trace} window vs published lifetime T ~{lifetime:.0f} s "
                     "(unverified)", ok, f"fitted e-folding time {taus[trace]:.2f} s "
                     f"(need [{lifetime / 4:.2f}, {lifetime:.0f}] s); dw/w at 0 s {dw[0]:+.3f}")
    measured = (f"pre->post + NE {ltp:+.3f}, post->pre + 5-HT {ltd:+.3f}, crossed / alone "
                f"<= {crossed:.0e}; e-fold LTP {taus['LTP']:.2f} s, LTD {taus['LTD']:.2f} s")
    return {"delays": delays, "windows": windows, "table": table, "taus": taus,
            "measured": measured}


# --- table and figure ---------------------------------------------------------------------

def markdown_table(results, verdicts) -> str:
    def v(rule):
        return f"**{model.verdict(verdicts.ok(rule))}**"

    brz, he_r = results["brzosko"], results["he"]
    lifetimes = PUBLISHED["he"]["lifetime_s"]
    rows = [
        ("Izhikevich (2007), `exponential` preset", PUBLISHED["izhikevich"]["text"],
         results["izhikevich"]["measured"],
         ("fitted tau_c within 5 % of 1 s, every dw(d)/dw(0) within 5 % of exp(-d/1 s) "
          "(0-5 s), dw(-1 s) < 1 % of dw(0)"), v("izhikevich")),
        ("Yagishita et al. (2014), `yagishita` preset", PUBLISHED["yagishita"]["text"],
         results["yagishita"]["measured"],
         ("peak in 0.3-2 s; dw(0) <= 0.5 peak; dw(-1 s), dw(>= 5 s) < 0.1 peak; dw(0.6 s), "
          "dw(1 s) >= 0.5 peak"), v("yagishita")),
        ("Brzosko et al. (2015), `brzosko` preset", PUBLISHED["brzosko"]["text"],
         brz["measured"],
         ("post->pre + ACh without DA < 0, with DA after > 0, pre->post + DA > 0; conversion "
          "e-fold within 25 % of the documented tau_e = 2 s. Slice time scale (minutes): "
          "not matched, by design (behavioural 2 s of the 2017 model), not counted"),
         v("brzosko") + " (time scale: MISMATCH, documented)"),
        ("He et al. (2015), `he` preset", PUBLISHED["he"]["text"], he_r["measured"],
         (f"NE after pre->post > +5 %, 5-HT after post->pre < -5 %, alone / crossed < 1 % of "
          f"those; e-fold tau in [T/4, T], T = {lifetimes['LTP']:.0f} s (LTP), "
          f"{lifetimes['LTD']:.0f} s (LTD)"), v("he")),
    ]
    lines = ["| rule | published window | ours (measured) | criterion | verdict |",
             "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def plot(results, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    axes = axes.ravel()

    ax = axes[0]
    r = results["izhikevich"]
    plot_timing_curve(r["delays"], r["dw"], ax=ax, label="ours: exponential preset")
    d = np.arange(0.0, 6.0, 1.0)
    ax.plot(d, np.exp(-d / PUBLISHED["izhikevich"]["tau_c_s"]), "s", mfc="none", color="k",
            label="Izhikevich 2007: exp(-d / 1 s) (definition)")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_ylabel("dw / max dw")
    ax.set_title("Izhikevich 2007: one pairing, DA pulse at d", fontsize=9)

    ax = axes[1]
    r = results["yagishita"]
    plot_timing_curve(r["delays"], r["dw"], ax=ax, label="ours: yagishita preset")
    lo, hi = PUBLISHED["yagishita"]["window_s"]
    ax.axvspan(lo, hi, color="gold", alpha=0.25, lw=0,
               label="Yagishita 2014: window 0.3-2 s (abstract)")
    sig = PUBLISHED["yagishita"]["significant_s"]
    ax.plot(sig, np.ones(len(sig)), "D", color="k",
            label="significant enlargement (Fig. 1O; height not digitised)")
    no = PUBLISHED["yagishita"]["ineffective_s"]
    ax.plot(no, np.zeros(len(no)), "X", color="k", ms=8, label="no enlargement (-1 s, 5 s)")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_ylabel("dw / max dw")
    ax.set_title("Yagishita 2014: one pairing, DA pulse at d", fontsize=9)

    ax = axes[2]
    r = results["brzosko"]
    x = np.maximum(r["delays"] / S, 0.1)  # log axis: 0 s drawn at 0.1 s
    ax.plot(x, r["with_da"], "o-", ms=3, label="ours: dw/w with DA 1 s at d (tau_e 2 s)")
    ax.axhline(r["no_da"], color="tab:blue", ls="--", lw=1, label="ours: no DA (ACh only)")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.axvspan(PUBLISHED["brzosko"]["slice_delay_s"], 1000.0, color="tab:green", alpha=0.15,
               lw=0, label="Brzosko 2015 slice: DA after converts,\n~1 min to minutes "
                           "(approx., unverified edges)")
    ax.set_xscale("log")
    ax.set_xlabel("DA delay after the last pairing (s; 0 drawn at 0.1)")
    ax.set_ylabel("dw / w")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_title("Brzosko 2015: ACh during 20 post->pre pairings, then DA", fontsize=9)

    ax = axes[3]
    r = results["he"]
    colours = {"LTP": "tab:red", "LTD": "tab:blue"}
    for trace, label in (("LTP", "NE after pre->post"), ("LTD", "5-HT after post->pre")):
        ax.plot(r["delays"] / S, r["windows"][trace], "o-", ms=3, color=colours[trace],
                label=f"ours: {label} (e-fold {r['taus'][trace]:.1f} s)")
        lifetime = PUBLISHED["he"]["lifetime_s"][trace]
        ax.axvline(lifetime, color=colours[trace], ls=":",
                   label=f"He 2015: {trace} trace lifetime ~{lifetime:.0f} s (unverified)")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("modulator delay after the last pairing (s)")
    ax.set_ylabel("dw / w")
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.set_title("He 2015: 20 pairings at 1 Hz (+-10 ms), 5 s bath at d", fontsize=9)

    fig.suptitle("Timing windows: ours (lines) against the slice literature (points / bands)")
    fig.tight_layout()
    model.save_figure(fig, path, dpi=110)


def parse_overrides(items) -> dict:
    """``["yagishita.eligibility_rise_tau_ms=20", ...]`` -> {rule: {field: float}}."""
    out: dict = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        rule, dot, field = key.partition(".")
        if not (sep and dot and field):
            raise ValueError(f"--set expects RULE.FIELD=VALUE, got {item!r}")
        if rule not in RULE_PRESETS:
            raise ValueError(f"--set: unknown rule {rule!r} in {item!r}; known: "
                             f"{', '.join(RULE_PRESETS)}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--set: value of {key} must be a number, got {value!r}") from None
        out.setdefault(rule, {})[field] = number
        get_params(RULE_PRESETS[rule], **out[rule])  # names a bad field or value now
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer delays (CI)")
    parser.add_argument("--set", action="append", metavar="RULE.FIELD=VALUE",
                        help="override a preset parameter (to break a rule on purpose)")
    parser.add_argument("--rules", nargs="+", choices=list(RULE_PRESETS),
                        default=list(RULE_PRESETS), help="run only these rules (no figure "
                        "unless all four run)")
    parser.add_argument("--figure", type=Path, default=model.FIGURES / "timing_windows.png")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.set)
    size = "quick" if args.quick else "full"
    print("CRITERION: Izhikevich: fitted tau_c within 5 % of 1 s and dw(d)/dw(0) within 5 % of "
          "exp(-d/1 s); Yagishita: peak in 0.3-2 s, dw(-1 s), dw(>= 5 s) < 10 % of the peak, "
          "dw(0.6 s), dw(1 s) >= 50 %; Brzosko: post->pre + ACh without DA depresses, DA after "
          "potentiates, conversion e-fold within 25 % of the documented 2 s; He: NE after "
          "pre->post > +5 %, 5-HT after post->pre < -5 %, crossed / alone < 1 % of those, "
          "e-fold tau in [T/4, T] of the published lifetime T.")
    if overrides:
        print(f"OVERRIDES: {overrides}")
    verdicts = Verdicts()
    experiments = [(name, experiment) for name, experiment in (
        ("izhikevich", izhikevich), ("yagishita", yagishita), ("brzosko", brzosko), ("he", he))
        if name in args.rules]
    results = {}
    bar = tqdm(experiments, desc="timing windows", unit="rule", file=sys.stderr,
               disable=os.environ.get("TQDM_DISABLE") == "1")
    for name, experiment in bar:
        bar.set_postfix_str(name)
        results[name] = experiment(size, overrides, verdicts)
    bar.close()
    complete = len(results) == len(RULE_PRESETS)
    if complete:
        print("\nBENCHMARKS.md table:")
        print(markdown_table(results, verdicts))
    if complete and not args.no_figure:
        plot(results, args.figure)
        print(f"figure: {args.figure}")
    ok = verdicts.ok()
    print(f"VERDICT: {model.verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
