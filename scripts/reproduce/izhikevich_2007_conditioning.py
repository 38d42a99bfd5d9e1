#!/usr/bin/env python3
"""Izhikevich (2007): classical (Pavlovian) conditioning with DA-modulated STDP.

Paper: E. M. Izhikevich (2007), Solving the distal reward problem through linkage of STDP
and dopamine signaling, Cerebral Cortex 17:2443-2452 (section "Classical conditioning").
The paper's network (``izhikevich_2007_model.py``) gets 100 random stimuli S1..S100, each
a set of 50 random neurons (excitatory or inhibitory). Every 100-300 ms one stimulus,
chosen at random, is presented: its 50 neurons get a 1 ms pulse of 40 (on top of the
noise; the value of the GeNN port of this experiment). Each presentation of S1 is
followed by a reward (+0.5 DA) after a random delay of 0-1 s, during which other
stimuli are presented as distractors. S1's outgoing synapses become stronger than the
other stimuli's and the network responds to S1 more than to any other stimulus.

Implementation: each stimulus is a source neuron (``PoissonSource``, driven to spike
once by the script) with synapses of weight 40 onto its 50 neurons; the reward is an
in-kernel :class:`agents.snn.ReleaseTrigger` on S1's source (delay 1-1000 steps after the
source spike = 0-999 ms after the pulse arrives). Control: a "reward cue" source with no
synapses fires together with a random 1 % of the presentations (whatever the stimulus),
and the trigger watches it: rewards at S1's rate, after random stimuli.

Measured, at the end of the run: the mean outgoing excitatory weight of S1's neurons over
that of the other 99 stimuli (``weight ratio``), and the network's spikes 5-60 ms after
a presentation of S1 over the mean after the others, over the last 20 % of the run
(``response ratio``).

Acceptance criterion (1800 s): weight ratio >= 2 and response ratio >= 3 in >= 80 % of
the seeds; in the control both ratios within [0.8, 1.25] in >= 80 % of the seeds.
``--quick`` (CI): 2 seeds, 600 s: weight ratio >= 1.3 in every conditioned run and
response ratio >= 1.3 in at least one (it rests on the few S1 presentations of the last
120 s), both ratios < 1.3 in every control run.

Both ratios are also printed every ``CHECKPOINT_S`` (600 s) of the run (response ratio
over the preceding 20 % of that time), to show whether they still rise.

What the paper's model does with this protocol (measured, 2026-11-22; seeds 0-2 unless
said): the ratios peak at 1200-1800 s and then sag (3600 s run, the GeNN port's duration:
weight 2.14 -> 1.77, 2.25 -> 1.84, 1.50 -> 1.46; response 4.06 -> 3.34, 3.41 -> 3.30,
1.37 -> 1.47), so a longer run does not help. Compensating the engine's extra 0.95 trace
factor (A+ and A- divided by 0.95, the published code's pairing sizes; seeds 0-4) gives
2.08 / 4.05, 2.22 / 3.57, 1.54 / 1.40, 1.63 / 1.65, 2.05 / 3.09 against 2.14 / 4.06,
2.25 / 3.41, 1.50 / 1.37, 1.66 / 1.67, 2.06 / 2.93 (controls 0.85-1.10): weight ratios
-0.06..+0.04, response ratios -0.02..+0.16 (seed 4 crosses 3), both criteria in 3/5
seeds instead of 2/5; the weak seeds stay far below, so that deviation does not explain
the shortfall. What sets the outcome is
the draw of S1 itself: the number of its 50 neurons that are excitatory (only they have
plastic outgoing synapses and drive the network; hypergeometric, mean 40, SD 2.8) predicts
both ratios over the 10 seeds (Spearman 0.93 weight, 0.98 response): S1 with >= 42
excitatory members passes both criteria (3/3), with <= 39 none does (0/7). P(>= 42) = 0.30,
so with stimuli drawn as in the paper (random neurons, the GeNN port draws from all 1000
too) about 3 seeds in 10 are expected to pass, as measured. It is S1's share relative to
the other stimuli that matters: drawing every stimulus from the excitatory neurons only
(``excitatory_only``, not the paper's protocol) does not rescue the weak seeds 2 and 3:
ratios peak at 600 s (2.00 / 2.64, 1.94 / 2.74) and fall to 1.53 / 2.09, 1.55 / 2.13 at
1800 s.

    python scripts/reproduce/izhikevich_2007_conditioning.py --seeds 10
    python scripts/reproduce/izhikevich_2007_conditioning.py --quick

Prints the criterion, one line per seed and condition, the verdicts and a BENCHMARKS.md
table row; writes ``docs/figures/izhikevich_2007_conditioning.png``; exit status 1 on FAIL.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import izhikevich_2007_model as model
import numpy as np

from agents.snn import Explicit, PoissonSource, ReleaseTrigger

N_STIMULI = 100
STIMULUS_SIZE = 50
STIMULUS_PULSE = 40.0
INTERVAL_STEPS = (100, 300)            # between presentations, uniform [100, 300)
REWARD_DELAY_STEPS = (1, 1000)         # after the source spike
RESPONSE_WINDOW = (5, 60)              # steps after the source spike, inclusive
MEASURE_FRACTION = 0.2                 # responses averaged over the last 20 % of the run
CHECKPOINT_S = 600                     # both ratios also printed every 600 s (still rising?)


def run_one(seed: int, condition: str, duration_s: int, advance, pulse: float = STIMULUS_PULSE,
            checkpoints_s=(), excitatory_only: bool = False):
    """One network, ``condition`` "conditioned" (S1 rewarded) or "control" (rewards
    after random presentations). ``pulse``: the stimulus current (mV per 1 ms step);
    ``checkpoints_s``: times (s) at which the weight ratio and the response ratio (over
    the preceding 20 % of that time) are also recorded, to see whether they still rise;
    ``excitatory_only``: stimuli drawn from the excitatory neurons only (NOT the paper's
    protocol; an ablation showing what the share of excitatory members does)."""
    rng = np.random.default_rng([seed, 2007])
    builder, exc, inh = model.paper_builder(topology_seed=seed)
    n = model.N_EXCITATORY + model.N_INHIBITORY
    sources = builder.add_population("stimuli", N_STIMULI + 1, PoissonSource())
    pool = model.N_EXCITATORY if excitatory_only else n
    members = np.stack([rng.choice(pool, STIMULUS_SIZE, replace=False) for _ in range(N_STIMULI)])
    builder.connect(sources, [exc, inh], Explicit(
        np.repeat(sources.start + np.arange(N_STIMULI), STIMULUS_SIZE), members.ravel()),
        weight=pulse, delay_steps=1)
    cue = sources.start + N_STIMULI  # the control's reward cue: no synapses
    watched = sources.start if condition == "conditioned" else cue
    trigger = ReleaseTrigger("DA", model.REWARD_DA, neuron=int(watched),
                             delay_steps=REWARD_DELAY_STEPS)
    net = model.build(builder, seed, triggers=[trigger])

    total = duration_s * 1000
    measure_from = int(total * (1 - MEASURE_FRACTION))
    response_sum = np.zeros(N_STIMULI)
    response_n = np.zeros(N_STIMULI)
    early_sum = np.zeros(N_STIMULI)
    early_n = np.zeros(N_STIMULI)
    drive = np.zeros(N_STIMULI + 1)
    done = 0
    table = net.synapse_table()
    plastic = table["plastic"]
    # each stimulus's outgoing plastic synapses, found once (the table does not change)
    outgoing = [np.flatnonzero(plastic & np.isin(table["pre"], m)) for m in members]
    others = np.arange(1, N_STIMULI)

    def weight_ratio() -> float:
        w = net.weights()[0]
        out = np.array([w[idx].mean() if idx.size else np.nan for idx in outgoing])
        return float(out[0] / np.nanmean(out[others])), out

    presented_at, presented, evoked = [], [], []
    pending_checkpoints = sorted(int(c * 1000) for c in checkpoints_s if 0 < c * 1000 <= total)
    checkpoint_weight_ratio = {}
    t_next = int(rng.integers(*INTERVAL_STEPS))
    while True:
        gap_end = min(t_next, total)
        while pending_checkpoints and pending_checkpoints[0] <= gap_end:
            if pending_checkpoints[0] > net.t:
                net.run(pending_checkpoints[0] - net.t)
            checkpoint_weight_ratio[pending_checkpoints.pop(0) // 1000] = weight_ratio()[0]
        if gap_end > net.t:
            net.run(gap_end - net.t)
        if t_next + RESPONSE_WINDOW[1] + 1 > total:
            break
        k = int(rng.integers(N_STIMULI))
        drive[:] = 0.0
        drive[k] = 1.0
        if condition == "control" and rng.random() < 1.0 / N_STIMULI:
            drive[N_STIMULI] = 1.0
        net.set_source_probabilities(sources, drive)
        net.run(1)
        net.set_source_probabilities(sources, np.zeros(N_STIMULI + 1))
        net.run(RESPONSE_WINDOW[0] - 1)
        before = int(net.spike_count[0])
        net.run(RESPONSE_WINDOW[1] - RESPONSE_WINDOW[0] + 1)
        spikes = int(net.spike_count[0]) - before
        presented_at.append(t_next)
        presented.append(k)
        evoked.append(spikes)
        if t_next >= measure_from:
            response_sum[k] += spikes
            response_n[k] += 1
        elif t_next < total * MEASURE_FRACTION:
            early_sum[k] += spikes
            early_n[k] += 1
        t_next += int(rng.integers(*INTERVAL_STEPS))
        advance(net.t - done)
        done = net.t
    advance(net.t - done)

    for c in pending_checkpoints:  # checkpoints in the last window of the run
        checkpoint_weight_ratio[c // 1000] = weight_ratio()[0]
    _, out_mean = weight_ratio()
    presented_at, presented, evoked = map(np.asarray, (presented_at, presented, evoked))
    checkpoints = {}
    for c_s, w_ratio in sorted(checkpoint_weight_ratio.items()):
        window = (presented_at >= c_s * 1000 * (1 - MEASURE_FRACTION)) & (presented_at < c_s * 1000)
        s1 = evoked[window & (presented == 0)].mean()
        per_other = [evoked[window & (presented == k)].mean() for k in others
                     if np.any(window & (presented == k))]
        checkpoints[c_s] = (w_ratio, float(s1 / np.mean(per_other)))
    response = response_sum / np.maximum(response_n, 1)
    early = early_sum / np.maximum(early_n, 1)
    seen = others[response_n[others] > 0]
    events = net.trigger_events()
    return {
        "seed": seed, "condition": condition,
        "weight_ratio": float(out_mean[0] / np.nanmean(out_mean[others])),
        "response_ratio": float(response[0] / response[seen].mean()),
        "response_s1": float(response[0]), "response_others": float(response[seen].mean()),
        "early_s1": float(early[0]), "early_others": float(early[others][early_n[others] > 0].mean()),
        "s1_presentations": int(response_n[0]),
        "out_weights": out_mean, "response": response,
        "rewards": int(events["counts"][0]), "checkpoints": checkpoints,
    }


def fmt(r) -> str:
    return (f"  seed {r['seed']:2d} {r['condition']:11s} weight ratio {r['weight_ratio']:.2f}  "
            f"response ratio {r['response_ratio']:.2f} (S1 {r['response_s1']:.1f} vs others "
            f"{r['response_others']:.1f} spikes in 5-60 ms, {r['s1_presentations']} S1 "
            f"presentations measured; first 20 %: S1 {r['early_s1']:.1f}, others "
            f"{r['early_others']:.1f})  rewards {r['rewards']}\n"
            f"           over time (weight / response ratio, response over the preceding 20 %): "
            + ", ".join(f"{c} s {w:.2f} / {q:.2f}" for c, (w, q) in r["checkpoints"].items()))


def plot(results, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    first = next(r for r in results if r["condition"] == "conditioned")
    ax = axes[0]
    ax.bar(np.arange(N_STIMULI), first["out_weights"], color="0.6")
    ax.bar([0], [first["out_weights"][0]], color="tab:red", label="S1 (rewarded)")
    ax.set_xlabel("stimulus")
    ax.set_ylabel("mean outgoing excitatory weight")
    ax.set_title(f"conditioned, seed {first['seed']}")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.bar(np.arange(N_STIMULI), first["response"], color="0.6")
    ax.bar([0], [first["response"][0]], color="tab:red")
    ax.set_xlabel("stimulus")
    ax.set_ylabel("network spikes 5-60 ms after it (last 20 %)")
    ax = axes[2]
    for x, cond, colour in ((0, "conditioned", "tab:red"), (1, "control", "tab:gray")):
        rs = [r for r in results if r["condition"] == cond]
        ax.plot(np.full(len(rs), x - 0.1), [r["weight_ratio"] for r in rs], "o", color=colour)
        ax.plot(np.full(len(rs), x + 0.1), [r["response_ratio"] for r in rs], "s", color=colour)
    ax.axhline(1.0, color="k", lw=0.6)
    for level in (2.0, 3.0):  # the criteria: weight ratio >= 2, response ratio >= 3
        ax.axhline(level, color="k", lw=0.6, ls=":")
    ax.set_ylim(0, None)
    ax.set_xticks([0, 1], ["S1 rewarded", "random rewards"])
    ax.set_ylabel("S1 / other stimuli (o weight, s response)")
    ax.set_title("all seeds")
    fig.suptitle("Izhikevich (2007) classical conditioning with the engine")
    fig.tight_layout()
    model.save_figure(fig, path, dpi=110)


def main(argv=None) -> int:
    args, seeds, duration = model.parse_run_args(
        __doc__.split("\n\n")[0], "izhikevich_2007_conditioning.png", argv, min_duration_s=10)
    n_seeds = len(seeds)
    if args.quick:
        print(f"CRITERION (quick, {duration} s, {n_seeds} seeds): weight ratio >= 1.3 in every "
              f"conditioned run and response ratio >= 1.3 in >= 1; both < 1.3 in every control run.")
    else:
        print(f"CRITERION ({duration} s, {n_seeds} seeds): S1's mean outgoing weight >= 2x the other "
              f"stimuli's and its evoked response (spikes 5-60 ms after it) >= 3x, in >= 80 % of "
              f"the seeds; with rewards after random stimuli both ratios within [0.8, 1.25] in "
              f">= 80 % of the seeds.")
    checkpoints = range(CHECKPOINT_S, duration + 1, CHECKPOINT_S)
    jobs = [lambda adv, s=s, c=c: run_one(s, c, duration, adv, checkpoints_s=checkpoints)
            for s in seeds for c in ("conditioned", "control")]
    results = model.run_jobs(jobs, args.threads, duration * 1000 * len(jobs), "conditioning")
    for r in results:
        print(fmt(r))
    cond = [r for r in results if r["condition"] == "conditioned"]
    ctl = [r for r in results if r["condition"] == "control"]
    ok = True
    if args.quick:
        n_w = sum(r["weight_ratio"] >= 1.3 for r in cond)
        n_r = sum(r["response_ratio"] >= 1.3 for r in cond)
        passed = n_w == len(cond) and n_r >= 1
        print(f"{model.verdict(passed)}  conditioned: weight ratio >= 1.3 in {n_w}/{len(cond)} "
              f"seeds, response ratio >= 1.3 in {n_r}/{len(cond)}")
        ok &= passed
        n_ok = sum(r["weight_ratio"] < 1.3 and r["response_ratio"] < 1.3 for r in ctl)
        passed = n_ok == len(ctl)
        print(f"{model.verdict(passed)}  control: both ratios < 1.3 in {n_ok}/{len(ctl)} seeds")
        ok &= passed
    else:
        n_ok = sum(r["weight_ratio"] >= 2 and r["response_ratio"] >= 3 for r in cond)
        passed = n_ok >= 0.8 * n_seeds
        print(f"{model.verdict(passed)}  conditioned: weight ratio >= 2 and response ratio >= 3 in "
              f"{n_ok}/{n_seeds} seeds (need >= 80 %)")
        ok &= passed
        n_ctl = sum(0.8 <= r["weight_ratio"] <= 1.25 and 0.8 <= r["response_ratio"] <= 1.25
                    for r in ctl)
        passed = n_ctl >= 0.8 * n_seeds
        print(f"{model.verdict(passed)}  control: both ratios within [0.8, 1.25] in "
              f"{n_ctl}/{n_seeds} seeds (need >= 80 %)")
        ok &= passed
        print("\nBENCHMARKS.md row:")
        print(f"| Izhikevich (2007) classical conditioning | a stimulus rewarded 0-1 s after its "
              f"presentations (amid 99 unrewarded ones) gains outgoing weight and evokes a "
              f"larger network response | at {duration} s: weight ratio median "
              f"{np.median([r['weight_ratio'] for r in cond]):.2f}, response ratio median "
              f"{np.median([r['response_ratio'] for r in cond]):.2f} (both criteria in "
              f"{n_ok}/{n_seeds} seeds); random-reward control medians "
              f"{np.median([r['weight_ratio'] for r in ctl]):.2f} / "
              f"{np.median([r['response_ratio'] for r in ctl]):.2f} ({n_ctl}/{n_seeds} within "
              f"[0.8, 1.25]) | {model.verdict(ok)} |")
    return model.finish(args, ok, lambda path: plot(results, path))


if __name__ == "__main__":
    sys.exit(main())
