#!/usr/bin/env python3
"""Fremaux, Sprekeler & Gerstner (2013): a TD actor-critic of spiking neurons learns to find
the hidden goal of an open field; the same actor without its critic does not.

Paper: N. Fremaux, H. Sprekeler & W. Gerstner (2013), Reinforcement learning using a
continuous time actor-critic framework with spiking neurons, PLoS Comput Biol 9:e1003024
(the water-maze task). Issue 7, item 6: "the TD-LTP actor-critic's latency over trials in
the open field falls to <= 25% of its first-5-trial value by trials 46-50; the critic-free
ablation does not learn."

Task: ``neuromod_gym/OpenFieldNavigation-v0`` with its defaults: a 4 x 4 a.u. arena, a hidden
goal of radius 0.3 a.u., 8 headings at 2 a.u./s (0.2 a.u. per 100 ms step), release from
one of the four cardinal points, reward 1 on reaching the goal and 0 otherwise, a trial
ends at the goal or after 15 s (the latency is then 15 s). One run of 50 trials per seed
(the agent seeds the run; each reset is the next trial, the goal stays put).

The TD-LTP agent is the project's spiking ``actor_critic`` with its OpenField entry of
``agents/hyperparams/spiking.yaml`` (the same learner as ``scripts/bench_agent.py openfield``,
whose training loop, latency recorder and claim this script imports)::

    place code    phi_c(x) = exp(-|x - c|^2 / (2 sigma^2)), 11 x 11 centres c, sigma = spacing
                  (0.4 a.u.); 4 Poisson inputs per cell at 400 Hz x phi_c
    neurons       LIF (tau_m 20 ms, tau_syn 5 ms, threshold 20 mV, refractory 2 ms, 20 Hz
                  background), 40 critic neurons, 8 actor groups of 20 (one per heading);
                  100 ms of task time per step, 20 ms of network time per step
    critic        V(s) = -0.2 + 4 x (critic rate, spikes / ms / neuron)
    actor         p(a | s) = softmax(100 x group rate)
    TD error      delta = 0.3 r + gamma V(s') - V(s),  gamma = 0.975 per 100 ms step (a 4 s
                  horizon: the paper's tau_r); V(s') = 0 at the goal, bootstrap at timeout
    eligibility   e_ji = sum_t post_j(t) x_i(t-), x_i a 20 ms presynaptic trace (the LTP-only
                  pre-before-post coincidence of TD-LTP), summed over the step's window
    trace         z_ji <- gamma lambda z_ji + f_j e_ji, lambda = 0.9; f_j = 1 for critic
                  neurons, onehot(a) - p for the actor group of action a
    update        w_ji += eta delta z_ji, eta = 0.05 (critic and actor); initial w uniform
                  in [0, 1.5], bounds [-10, 10] (nA into 1 Mohm, i.e. mV)

The critic-free ablation is the SAME agent (same seed, network, eligibility, trace and
actor) whose critic is removed: ``critic_lr = 0``, ``value_scale = 0``, ``value_bias = 0``,
so V = 0 everywhere and the modulating signal is ``delta = 0.3 r``: the reward itself.
Why this ablation: Fremaux et al. contrast TD-LTP with reward-modulated STDP, whose third
factor is the reward (or the reward minus its running mean, R-max) instead of the TD
error (unverified: the paper's text was not available offline; only its abstract, which
states that R-STDP needs the reward prediction error and proposes the critic for it). The
reward itself is the minimal change (one signal replaced, everything else identical); the
project's other option, ``architecture="rstdp"`` (reward minus a running mean, one group
per action, STDP eligibility with LTD), changes the actor as well, so it would not isolate
the critic. Because the goal reward arrives only at the goal, the reward-modulated actor
can credit only the actions its trace still holds (time constant 1 / (1 - gamma lambda)
~ 8 steps, 0.8 s), whereas the critic carries value back along the whole path.

How our agent differs from the paper's (so the comparison is of the claim, not the code):
theirs runs the TD error in continuous time (Doya 2000: delta(t) = r(t) - V(t) / tau_r +
dV/dt, with V read from spiking critic neurons and the TD error delivered continuously),
its actor is a ring of 180 action neurons with lateral (Mexican-hat) connectivity whose
population vector sets a continuous heading, and its water maze is a circular pool with a
platform (unverified details). Ours computes one TD error per 100 ms env step from the
critic's mean rate in a 20 ms window, chooses one of 8 headings by a softmax over group
rates, and uses a square 4 x 4 arena with a fixed goal. The engine's TD-LTP rule preset
(``agents/rules/fremaux.py``: PSP-shaped pre trace, kappa-filtered coincidence) is not what
the agent uses: the agent applies the same LTP-only coincidence with a single-exponential
20 ms pre trace, accumulated per env step.

Acceptance criterion (``--seeds 10``): per seed, ratio = median latency of trials 46-50 /
median latency of trials 1-5 (``bench_agent.openfield_latency_claim``). TD-LTP agent:
ratio <= 0.25 in >= 80 % of the seeds (8/10); critic-free ablation: ratio > 0.25 (does
not reach it) in >= 90 % of the seeds (9/10). ``--quick`` (CI smoke test): 2 seeds;
TD-LTP ratio <= 0.35 in every seed and the critic-free ratio above the TD-LTP ratio of
the same seed in every seed.

    python scripts/reproduce/fremaux_2013_open_field.py --seeds 10
    python scripts/reproduce/fremaux_2013_open_field.py --quick

Prints the criterion, one line per seed and learner, the verdicts and a BENCHMARKS.md table
row; writes ``docs/figures/fremaux_2013_open_field.png`` (latency per trial, median and
interquartile range over seeds); exit status 1 on FAIL. ``--threads`` = worker processes.
About 12 s per run of 50 trials on a quiet core (40-60 s at load average 8-14); the
10-seed run is 20 runs. Measured (10 seeds): BENCHMARKS.md, ## Paper reproductions.
"""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))          # the reproductions
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))      # scripts/: bench_agent

import bench_agent as bench
import izhikevich_2007_model as model
import numpy as np

TD_LTP = "TD-LTP actor-critic"
CRITIC_FREE = "critic-free (DA = reward)"
# learner name -> (bench_agent learner kind, agent parameters over the OpenField entry)
LEARNERS = {
    TD_LTP: bench.OPENFIELD_LEARNERS["spiking"],
    CRITIC_FREE: ("spiking", {"critic_lr": 0.0, "value_scale": 0.0, "value_bias": 0.0}),
}
TD_LTP_SHARE = 0.8           # TD-LTP: ratio <= 0.25 in >= 80 % of the seeds
CRITIC_FREE_SHARE = 0.9      # critic-free: ratio > 0.25 in >= 90 % of the seeds
QUICK_TD_LTP_RATIO = 0.35    # --quick: TD-LTP ratio <= this in every seed


def run_one(job) -> dict:
    """Train one learner on one run of 50 trials -> its latencies and the per-seed claim."""
    name, seed = job
    kind, params = LEARNERS[name]
    env = bench._trained_on_trials(kind, seed, params, bench.OPENFIELD_ID,
                                   bench.OPENFIELD_TRIALS)
    return {"learner": name, "seed": seed, "latency_ms": env.latency_ms,
            **bench.openfield_latency_claim(env.latency_ms)}


def run_all(seeds, workers: int) -> list[dict]:
    from tqdm import tqdm

    jobs = [(name, seed) for seed in seeds for name in LEARNERS]
    with ProcessPoolExecutor(workers) as pool:
        results = list(tqdm(pool.map(run_one, jobs), total=len(jobs), unit="run",
                            desc="fremaux 2013", file=sys.stderr))
    return results


def fmt(r: dict) -> str:
    return (f"seed {r['seed']:2d}  {r['learner']:26s}  median latency trials 1-5 "
            f"{r['median_latency_1_5_ms'] / 1000:5.1f} s, 46-50 "
            f"{r['median_latency_46_50_ms'] / 1000:5.1f} s, ratio {r['ratio']:.2f}")


def plot(results: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for name, colour in ((TD_LTP, "tab:blue"), (CRITIC_FREE, "tab:gray")):
        lat = np.array([r["latency_ms"][:bench.OPENFIELD_TRIALS] for r in results
                        if r["learner"] == name]) / 1000.0
        trials = np.arange(1, lat.shape[1] + 1)
        q25, q50, q75 = np.percentile(lat, [25, 50, 75], axis=0)
        ax.plot(trials, q50, color=colour, label=f"{name} (median, IQR; {len(lat)} seeds)")
        ax.fill_between(trials, q25, q75, color=colour, alpha=0.25, lw=0)
    ax.set_xlabel("trial")
    ax.set_ylabel("escape latency (s; 15 s = timeout)")
    ax.set_ylim(0, 15.5)
    ax.legend(fontsize=8)
    ax.set_title("latency over trials")
    ax = axes[1]
    for x, name, colour in ((0, TD_LTP, "tab:blue"), (1, CRITIC_FREE, "tab:gray")):
        ratios = [r["ratio"] for r in results if r["learner"] == name]
        ax.plot(x + np.linspace(-0.15, 0.15, len(ratios)), ratios, "o", color=colour)
    ax.axhline(bench.OPENFIELD_RATIO, color="k", lw=0.8, ls=":")  # the criterion
    ax.set_xticks([0, 1], [TD_LTP, CRITIC_FREE])
    ax.set_ylabel("median latency 46-50 / median latency 1-5")
    ax.set_ylim(0, None)
    ax.set_title("per seed (dotted: 0.25)")
    fig.suptitle("Fremaux, Sprekeler & Gerstner (2013): open field, spiking TD actor-critic "
                 "vs critic-free")
    fig.tight_layout()
    model.save_figure(fig, path, dpi=110)


def main(argv=None) -> int:
    args, seeds, _ = model.parse_run_args(__doc__.split("\n\n")[0],
                                          "fremaux_2013_open_field.png", argv)
    if args.duration_s is not None:
        raise ValueError(f"--duration-s {args.duration_s} does not apply: the protocol is "
                         f"{bench.OPENFIELD_TRIALS} trials per seed")
    n = len(seeds)
    limit = bench.OPENFIELD_RATIO
    if args.quick:
        print(f"CRITERION (quick, {n} seeds, {bench.OPENFIELD_TRIALS} trials): TD-LTP ratio "
              f"(median latency 46-50 / 1-5) <= {QUICK_TD_LTP_RATIO} in every seed, and the "
              f"critic-free ratio above the TD-LTP ratio in every seed.")
    else:
        print(f"CRITERION ({n} seeds, {bench.OPENFIELD_TRIALS} trials): TD-LTP agent: ratio "
              f"(median latency 46-50 / 1-5) <= {limit} in >= {TD_LTP_SHARE:.0%} of the seeds; "
              f"critic-free ablation: ratio > {limit} (does not reach it) in >= "
              f"{CRITIC_FREE_SHARE:.0%} of the seeds.")
    results = run_all(seeds, args.threads)
    for r in sorted(results, key=lambda r: (r["learner"] != TD_LTP, r["seed"])):
        print(fmt(r))
    td = {r["seed"]: r for r in results if r["learner"] == TD_LTP}
    cf = {r["seed"]: r for r in results if r["learner"] == CRITIC_FREE}
    td_ratios = [td[s]["ratio"] for s in seeds]
    cf_ratios = [cf[s]["ratio"] for s in seeds]
    if args.quick:
        n_td = sum(x <= QUICK_TD_LTP_RATIO for x in td_ratios)
        td_ok = n_td == n
        n_cf = sum(cf[s]["ratio"] > td[s]["ratio"] for s in seeds)
        cf_ok = n_cf == n
        print(f"{model.verdict(td_ok)}  TD-LTP: ratio <= {QUICK_TD_LTP_RATIO} in {n_td}/{n} seeds")
        print(f"{model.verdict(cf_ok)}  critic-free: ratio above TD-LTP's in {n_cf}/{n} seeds")
    else:
        n_td = sum(x <= limit for x in td_ratios)
        td_ok = n_td >= TD_LTP_SHARE * n
        n_cf = sum(x > limit for x in cf_ratios)
        cf_ok = n_cf >= CRITIC_FREE_SHARE * n
        print(f"{model.verdict(td_ok)}  TD-LTP agent: ratio <= {limit} in {n_td}/{n} seeds "
              f"(need >= {TD_LTP_SHARE:.0%})")
        print(f"{model.verdict(cf_ok)}  critic-free ablation: ratio > {limit} in {n_cf}/{n} "
              f"seeds (need >= {CRITIC_FREE_SHARE:.0%})")
    ok = td_ok and cf_ok
    if not args.quick:
        print("\nBENCHMARKS.md row:")
        print(f"| Fremaux, Sprekeler & Gerstner (2013), open field "
              f"(`fremaux_2013_open_field.py --seeds {n}`) | a spiking TD actor-critic's escape "
              f"latency falls to <= 25 % of its first trials' within 50 trials; without the "
              f"critic it does not | TD-LTP: ratio <= 0.25 in {n_td}/{n} seeds "
              f"(median {np.median(td_ratios):.2f}; "
              + ", ".join(f"{x:.2f}" for x in td_ratios)
              + f"); critic-free (DA = reward): reaches it in {n - n_cf}/{n} (median "
              f"{np.median(cf_ratios):.2f}; " + ", ".join(f"{x:.2f}" for x in cf_ratios)
              + f") | {model.verdict(ok)} |")
    return model.finish(args, ok, lambda path: plot(results, path))


if __name__ == "__main__":
    sys.exit(main())
