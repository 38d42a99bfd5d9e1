#!/usr/bin/env python3
"""Schultz, Dayan & Montague (1997): the dopamine response shifts from the reward to the CS.

Paper: W. Schultz, P. Dayan, P. R. Montague (1997), A neural substrate of prediction and
reward, Science 275:1593-1599, Fig. 1: before learning, dopamine neurons fire at an
unpredicted reward (US); after learning they fire at the conditioned stimulus (CS) that
predicts it, not at the predicted reward, and their firing dips below baseline at the
time a predicted reward is omitted. The paper reads this as a temporal-difference (TD)
prediction error. Here the DA is the spiking agent's own TD error on
``neuromod_gym/TraceConditioning-v0``, with its plasticity on throughout.

Task (``TraceConditioning-v0``, 50 ms per env step): blank inter-trial interval (ITI)
uniform in 1-3 s, then the CS for 1,000 ms (delay conditioning: the CS stays on until the
US), then the US (reward 1) in the step 1,000 ms after CS onset; on 10 % of the trials
(``omission_probability``) the US is withheld. Observation ``[CS2, CS, US]`` (0/1), no
clock. ``us_requires_lick=False``: the US is delivered and collected whatever the agent
does, the classical (Pavlovian) version: the reward, and so the DA at the US, does not
depend on the policy (with the default ``True`` a reward is collected only on trials
where the agent licks at the right step, so the "US response" would mix the critic's
prediction with the actor's lick rate). The lick still costs 0.02 (``lick_cost``), so
the actor learns to stop licking; the actor plays no part in the measures.

Agent: :class:`agents.spiking_agent.SpikingAgent`, ``actor_critic`` (RL core
``agents/architectures.py``). Per env step the network runs ``step_ms`` = 50 ms (the
task's own step: the network runs in task time) of 1 ms LIF steps; the critic is 40 LIF
neurons, tau_m 20 ms, threshold 20 mV, fed by 20 Poisson inputs per observation feature
at 200 Hz x feature; its readout ``rate`` is the mean spike count per neuron per ms. Then

    V(s)    = value_bias + value_scale * rate(s)        (-0.2 + 10 x rate: V = 0 at 20 Hz)
    delta_t = reward_scale * r_t + gamma * V(s_t+1) - V(s_t)   (reward_scale 1, gamma 0.99
                                                       per 50-ms step: horizon ~5 s)
    DA_t    = delta_t                                  (``dopamine="td"``: the signed RPE
                                                       the agent delivers as third factor)
    z      <- gamma * lambda * z + e_t                 (lambda 0.5; e_t: the window's
                                                       pre-trace x post-spike eligibility)
    w      <- w + lr * DA_t * z                        (critic lr 0.1, actor lr 0.15; soft
                                                       bounds in [w_min, w_max] = [0, 10])

Parameters that differ from ``agents/hyperparams/spiking.yaml`` (TraceConditioning-v0;
``AGENT_PARAMS`` sets every parameter of that yaml entry and every changed one
explicitly, so a later yaml change does not move this result; the substrate's others are
``SpikingParams`` defaults), each tried and measured (3-seed ablations of the final set
in BENCHMARKS.md, "Paper reproductions"):

* ``encoder="scaled_no_bias"`` (no constant feature): with the constant feature the ITI
  state's value is learnable and learns to predict the CS (the CS comes within 1-3 s):
  V(ITI) rose from -0.2 to +0.2 with the shared yaml (trained CS response 10-21 % of the
  naive US, predicted US 76-85 %) and to +0.8..+1.1 with the final set otherwise
  unchanged (predicted US 161-169 %: the bias inflates every value). Without it the
  blank ITI drives no plastic synapse: V(ITI) stays at its floor (-0.2) and the jittered
  CS onset is unpredicted, as in the paper's model, where no stimulus representation
  precedes the CS.
* ``gamma=0.99`` per step (yaml 0.95): the CS is one aliased state for its 20 steps (no
  clock in the observation), so each step inside it costs (1 - gamma) V and the US stays
  partly unpredicted; with 0.95 the predicted-US response stayed at 30-33 %.
* ``value_scale=10``, ``soft_bounds=True``, ``w_min=0``, ``w_init_max=1.5``: with hard
  bounds in [-10, 10] the Hebbian critic split into a few saturated neurons (~200 Hz, w
  near the bound) and silent ones (negative weights; a silent neuron is never eligible
  again), and V(CS) stalled (predicted US 46-53 %). Multiplicative bounds keep the
  weights of a group together; initial weights up to 1.5 put the naive critic near
  20 Hz, V(CS) ~ 0 before learning (measured with 20 ms windows: up to 1.0, a silent
  critic that learned nothing; up to 3, V(CS) ~ 0.6 before learning, no naive US of ~1).
* ``step_ms=50`` (yaml 20): the network runs in task time, and the critic's onset
  transient no longer splits the CS response over two steps (20 ms windows: CS 73-75 %,
  predicted US 13-16 %, a pass with less margin).

Definitions (all per env step; a transition's time is that of the observation it leads
to, so the transition from the last ITI observation to the first CS observation is at
t = 0 ms, "the step the CS appears", and the US transition is at t = 1,000 ms):

* DA response = the agent's DA_t (its TD error) read by the learn() callback.
* naive US response = mean DA at t = 1,000 ms over the rewarded trials of the first
  ``NAIVE_TRIALS`` trials of the UNTRAINED agent: same seed, same initial weights and
  task run, learning rates 0 (so every one of those trials is naive; in the training
  run the first US already teaches). V ~ 0 then, so it is ~ the scaled reward.
* trained = the second half of the trials of the training run (plasticity on, as for the
  animal; the DA measured is the DA that drives its learning).
* CS response = mean DA at t = 0 over trained trials; predicted-US response = mean DA at
  t = 1,000 ms over trained rewarded trials; baseline = mean DA at t = -500 .. -50 ms
  (ITI, >= 500 ms after the previous US); omission dip = (baseline - mean DA at
  t = 1,000 ms over trained omission trials). Each is divided by the naive US response.

Acceptance criterion (issue 7 item 3; full run 1,800 s of task time = ~590 trials per
seed, 10 seeds): CS response >= 50 % of the naive US response, predicted-US response
<= 20 %, omission dip >= 20 %, all three in >= 80 % of the seeds. ``--quick`` (CI):
2 seeds, 600 s (~200 trials), every seed: CS response > 25 %, predicted-US response < 50 %,
omission response below baseline.

    python scripts/reproduce/schultz_1997_da_shift.py --seeds 10
    python scripts/reproduce/schultz_1997_da_shift.py --quick

``--duration-s`` is task time (50 ms per env step); ``--threads`` is the number of worker
processes (seeds run in parallel). Prints the criterion, one line per seed, the verdicts
and a BENCHMARKS.md table row; writes ``docs/figures/schultz_1997_da_shift.png``; exit
status 1 on FAIL.
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

if __name__ == "__main__":  # only when run as a script: set in a process that has already
    # imported numba (a test importing this module), a changed NUMBA_NUM_THREADS makes numba
    # refuse to compile once its threads run
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one core per worker: seeds run in parallel
    os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import izhikevich_2007_model as model  # the shared command line; adds the repo root
import numpy as np
from tqdm import tqdm

ENV_ID = "neuromod_gym/TraceConditioning-v0"
ENV_KWARGS = {"us_requires_lick": False}  # classical version: the US never depends on the policy
# The yaml entry's parameters and the changed ones, all explicit (the shared yaml may change).
AGENT_PARAMS = {
    "architecture": "actor_critic",
    "encoder": "scaled_no_bias",
    "gamma": 0.99,
    "trace_lambda": 0.5,
    "reward_scale": 1.0,
    "critic_lr": 0.1,
    "actor_lr": 0.15,
    "value_bias": -0.2,
    "value_scale": 10.0,
    "logit_scale": 50.0,
    "input_copies": 20,
    "soft_bounds": True,
    "w_min": 0.0,
    "w_max": 10.0,
    "w_init_min": 0.0,
    "w_init_max": 1.5,
    "step_ms": 50.0,
    "dopamine": "td",
}
DT_MS = 50.0                 # the task's step
NAIVE_TRIALS = 20            # trials of the untrained (learning rates 0) agent
WINDOW_MS = (-500, 1500)     # aligned traces: transitions from 500 ms before CS onset
US_MS = 1000.0               # CS onset -> US
BASELINE_MS = (-500, -50)    # ITI transitions before CS onset (ITI >= 1,000 ms)
CS_MIN, US_MAX, DIP_MIN, SEED_FRACTION = 0.5, 0.2, 0.2, 0.8
QUICK_CS_MIN, QUICK_US_MAX = 0.25, 0.5


def record_run(seed: int, params: dict, n_steps: int | None = None, n_trials: int | None = None):
    """Run the agent's learn() on ONE run of the task (the agent seeds it) for ``n_steps``
    env steps, or until trial ``n_trials`` begins; -> per env step: trial index, time of the
    next observation from CS onset (ms), omission trial, DA delivered, V of the step and
    the task's events of the next observation (``"cs"``, ``"us"``, ``"omission"``, ...)."""
    import gymnasium as gym

    import neuromod_gym  # noqa: F401  (registers the tasks)
    from agents.spiking_agent import SpikingAgent

    env = gym.make(ENV_ID, **ENV_KWARGS)
    agent = SpikingAgent(env, seed=seed, **params)
    rows: list[tuple] = []

    def on_step(local_vars, _globals) -> bool:
        latent = local_vars["info"]["latent"]
        rows.append((latent["trial"], latent["action_ms_from_cs_onset"] + DT_MS,
                     latent["omission_trial"], local_vars["dopamine"],
                     local_vars["step"].value, local_vars["info"]["events"]))
        return n_trials is None or latent["trial"] < n_trials

    agent.learn(n_steps if n_steps is not None else n_trials * 1000, callback=on_step)
    trial, t_ms, omission, da, value, events = zip(*rows)
    return {"trial": np.array(trial, dtype=int), "t_ms": np.array(t_ms),
            "omission": np.array(omission, dtype=bool), "da": np.array(da),
            "value": np.array(value), "events": list(events)}


def aligned(run: dict, trials: np.ndarray | None = None) -> dict:
    """DA of every trial whose CS onset transition (t = 0) lies in ``trials`` (all if None)
    and whose whole window ``WINDOW_MS`` was recorded -> ``traces`` (n, n_bins),
    ``omission`` (n,), ``times_ms`` (n_bins,)."""
    before, after = -WINDOW_MS[0] // int(DT_MS), WINDOW_MS[1] // int(DT_MS)
    onsets = np.nonzero(run["t_ms"] == 0.0)[0]
    onsets = onsets[(onsets >= before) & (onsets + after < run["da"].size)]
    if trials is not None:
        onsets = onsets[np.isin(run["trial"][onsets], trials)]
    index = onsets[:, None] + np.arange(-before, after + 1)[None, :]
    return {"traces": run["da"][index], "omission": run["omission"][onsets],
            "times_ms": np.arange(-before, after + 1) * DT_MS}


def at(times_ms: np.ndarray, t: float) -> int:
    return int(np.nonzero(times_ms == t)[0][0])


def measure_seed(job) -> dict:
    """One seed: the untrained agent's naive US response, then one training run of
    ``duration_s`` of task time; -> the responses, ratios and aligned traces."""
    seed, duration_s = job
    frozen = {**AGENT_PARAMS, "critic_lr": 0.0, "actor_lr": 0.0}
    naive_run = record_run(seed, frozen, n_trials=NAIVE_TRIALS)
    naive = aligned(naive_run)
    us_bin = at(naive["times_ms"], US_MS)
    naive_us = float(naive["traces"][~naive["omission"], us_bin].mean())

    run = record_run(seed, AGENT_PARAMS, n_steps=round(duration_s * 1000 / DT_MS))
    n_trials = int(run["trial"].max())  # trials 0 .. n_trials - 1 are complete
    trained = aligned(run, np.arange(n_trials // 2, n_trials))
    first = aligned(run, np.arange(0, 1))  # the first trial of the training run
    times = trained["times_ms"]
    base_bins = (times >= BASELINE_MS[0]) & (times <= BASELINE_MS[1])
    rewarded = trained["traces"][~trained["omission"]]
    omitted = trained["traces"][trained["omission"]]
    baseline = float(trained["traces"][:, base_bins].mean())
    cs = float(trained["traces"][:, at(times, 0.0)].mean())
    us = float(rewarded[:, at(times, US_MS)].mean())
    om = float(omitted[:, at(times, US_MS)].mean()) if len(omitted) else float("nan")
    iti = (run["t_ms"] <= BASELINE_MS[1]) & np.isin(run["trial"], np.arange(n_trials // 2,
                                                                             n_trials))
    cs_on = (run["t_ms"] > 0) & (run["t_ms"] <= US_MS) & np.isin(
        run["trial"], np.arange(n_trials // 2, n_trials))
    return {
        "seed": seed, "n_trials": n_trials, "n_trained": len(trained["traces"]),
        "n_omitted": len(omitted), "naive_us": naive_us,
        "first_trial_us": float(first["traces"][0, us_bin]) if not first["omission"][0]
        else float("nan"),
        "baseline": baseline, "cs": cs, "us": us, "omission": om,
        "cs_ratio": cs / naive_us, "us_ratio": us / naive_us,
        "dip_ratio": (baseline - om) / naive_us,
        # V is read at each step's observation: ITI steps vs CS steps of the trained trials
        "v_iti": float(run["value"][iti].mean()), "v_cs": float(run["value"][cs_on].mean()),
        "times_ms": times, "naive_mean": naive["traces"][~naive["omission"]].mean(axis=0),
        "rewarded_mean": rewarded.mean(axis=0),
        "omitted_mean": omitted.mean(axis=0) if len(omitted) else np.full(times.size, np.nan),
        "naive_traces": naive["traces"][~naive["omission"]], "rewarded_traces": rewarded,
        "omitted_traces": omitted,
    }


def fmt(r) -> str:
    return (f"  seed {r['seed']:2d}  trials {r['n_trials']} (trained {r['n_trained']}, "
            f"{r['n_omitted']} omitted)  naive US {r['naive_us']:+.3f} (first training trial "
            f"{r['first_trial_us']:+.3f})  trained: CS {r['cs']:+.3f}  US {r['us']:+.3f}  "
            f"omission {r['omission']:+.3f}  baseline {r['baseline']:+.4f}  ->  CS "
            f"{100 * r['cs_ratio']:.0f} %  US {100 * r['us_ratio']:.0f} %  dip "
            f"{100 * r['dip_ratio']:.0f} %  (V: ITI {r['v_iti']:+.3f}, CS {r['v_cs']:+.3f})")


def plot(results, path: Path, duration_s: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("naive_mean", "naive_traces", (f"untrained (learning rates 0), first "
                                            f"{NAIVE_TRIALS} trials: reward unpredicted")),
            ("rewarded_mean", "rewarded_traces", "trained, rewarded trials: reward predicted"),
            ("omitted_mean", "omitted_traces", ("trained, omission trials: reward predicted, "
                                                "none comes"))]
    times = results[0]["times_ms"]
    fig = plt.figure(figsize=(13, 9.5))
    grid = fig.add_gridspec(6, 2, width_ratios=[2.2, 1], height_ratios=[2, 1] * 3,
                            hspace=0.55, wspace=0.25)
    all_means = np.concatenate([np.ravel([r[key] for r in results]) for key, _, _ in rows])
    low, high = np.nanmin(all_means) - 0.1, np.nanmax(all_means) + 0.1
    first = results[0]
    limit = max(abs(np.concatenate([first[t].ravel() for _, t, _ in rows if first[t].size]))
                .max(), 1e-6)
    for k, (mean_key, traces_key, title) in enumerate(rows):
        ax = fig.add_subplot(grid[2 * k, 0])
        for r in results:
            ax.step(times, r[mean_key], where="mid", color="0.6", lw=0.6, alpha=0.7)
        ax.bar(times, np.nanmean([r[mean_key] for r in results], axis=0), width=DT_MS,
               color="tab:green", alpha=0.8, label=f"mean of {len(results)} seeds")
        ax.axhline(0.0, color="k", lw=0.5)
        for x, name in ((0.0, "CS"), (US_MS, "US" if k < 2 else "US omitted")):
            ax.axvline(x - DT_MS / 2, color="tab:red" if name != "CS" else "tab:blue",
                       ls="--", lw=0.8)
            ax.text(x - DT_MS / 2, high, f" {name}", va="top", fontsize=8)
        ax.set_ylim(low, high)
        ax.set_xlim(times[0] - DT_MS, times[-1] + DT_MS)
        ax.set_ylabel("DA = TD error")
        ax.set_title(title, fontsize=10)
        if k == 0:
            ax.legend(loc="center left", fontsize=8)
        ax = fig.add_subplot(grid[2 * k + 1, 0])
        traces = first[traces_key]
        if traces.size:
            ax.imshow(traces, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                      extent=(times[0] - DT_MS / 2, times[-1] + DT_MS / 2, len(traces), 0),
                      interpolation="nearest")
        ax.set_ylabel(f"trial\n(seed {first['seed']})", fontsize=8)
        ax.set_xlim(times[0] - DT_MS, times[-1] + DT_MS)
        if k == 2:
            ax.set_xlabel("time from CS onset (ms; one bin = one 50 ms env step)")
    ax = fig.add_subplot(grid[:, 1])
    labels = ["CS\n(>= 50 %)", "predicted US\n(<= 20 %)", "omission dip\n(>= 20 %)"]
    keys = ["cs_ratio", "us_ratio", "dip_ratio"]
    bounds = [CS_MIN, US_MAX, DIP_MIN]
    for i, (key, bound) in enumerate(zip(keys, bounds)):
        values = np.array([r[key] for r in results])
        jitter = np.linspace(-0.15, 0.15, values.size) if values.size > 1 else np.zeros(1)
        ax.plot(i + jitter, 100 * values, "o", color="tab:green", ms=5)
        ax.plot([i - 0.3, i + 0.3], [100 * np.median(values)] * 2, color="k", lw=1.5)
        ax.plot([i - 0.35, i + 0.35], [100 * bound] * 2, color="tab:red", ls=":", lw=1.2)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xticks(range(3))
    ax.set_xticklabels(labels, fontsize=9)
    ax.set_ylabel("% of the naive US response (per seed; bar: median; dotted: criterion)")
    ax.set_title(f"trained (second half of {duration_s} s)", fontsize=10)
    fig.suptitle("Schultz, Dayan & Montague (1997) Fig. 1 with the spiking critic on "
                 "TraceConditioning-v0: DA (TD error) moves from the US to the CS")
    model.save_figure(fig, path, dpi=110, bbox_inches="tight")


def main(argv=None) -> int:
    args, seeds, duration = model.parse_run_args(__doc__.split("\n\n")[0],
                                                 "schultz_1997_da_shift.png", argv,
                                                 min_duration_s=60)
    n_seeds = len(seeds)
    if args.quick:
        print(f"CRITERION (quick, {duration} s of task time, {n_seeds} seeds): in every seed, "
              f"trained CS response > {100 * QUICK_CS_MIN:.0f} % of the naive US response, "
              f"predicted-US response < {100 * QUICK_US_MAX:.0f} %, omission response below "
              f"baseline.")
    else:
        print(f"CRITERION ({duration} s of task time, {n_seeds} seeds): trained CS response >= "
              f"{100 * CS_MIN:.0f} % of the naive US response, predicted-US response <= "
              f"{100 * US_MAX:.0f} %, omission dip below baseline >= {100 * DIP_MIN:.0f} %, "
              f"each in >= {100 * SEED_FRACTION:.0f} % of the seeds.")
    jobs = [(s, duration) for s in seeds]
    with ProcessPoolExecutor(max(1, args.threads)) as pool:
        results = list(tqdm(pool.map(measure_seed, jobs), total=len(jobs), desc="seeds",
                            unit="seed", file=sys.stderr,
                            disable=os.environ.get("TQDM_DISABLE") == "1"))
    for r in results:
        print(fmt(r))

    cs_r = np.array([r["cs_ratio"] for r in results])
    us_r = np.array([r["us_ratio"] for r in results])
    dip_r = np.array([r["dip_ratio"] for r in results])
    if args.quick:
        checks = [(cs_r > QUICK_CS_MIN, f"CS response > {100 * QUICK_CS_MIN:.0f} % of naive US"),
                  (us_r < QUICK_US_MAX, f"predicted-US response < {100 * QUICK_US_MAX:.0f} %"),
                  (dip_r > 0.0, "omission response below baseline")]
        need = n_seeds
    else:
        checks = [(cs_r >= CS_MIN, f"CS response >= {100 * CS_MIN:.0f} % of naive US"),
                  (us_r <= US_MAX, f"predicted-US response <= {100 * US_MAX:.0f} %"),
                  (dip_r >= DIP_MIN, f"omission dip >= {100 * DIP_MIN:.0f} %")]
        need = int(np.ceil(SEED_FRACTION * n_seeds - 1e-9))
    ok = True
    for passed, text in checks:
        n_ok = int(np.sum(passed))
        print(f"{model.verdict(n_ok >= need)}  {text} in {n_ok}/{n_seeds} seeds (need {need})")
        ok &= n_ok >= need
    if not args.quick:
        def pct(values):
            return ", ".join(f"{100 * v:.0f}" for v in values)
        naive = np.array([r["naive_us"] for r in results])
        print("\nBENCHMARKS.md row:")
        print(f"| Schultz, Dayan & Montague (1997) Fig. 1, DA shift (`schultz_1997_da_shift.py "
              f"--seeds {n_seeds}`) | dopamine fires at an unpredicted reward; after learning "
              f"at the CS that predicts it, not at the predicted reward, and dips when the "
              f"reward is omitted | spiking critic's TD error on TraceConditioning-v0, "
              f"{duration} s per seed, trained = second half; naive US response "
              f"{naive.min():.2f}-{naive.max():.2f}; as % of it, CS {pct(cs_r)} (median "
              f"{100 * np.median(cs_r):.0f}, >= 50 % in {int(np.sum(cs_r >= CS_MIN))}/{n_seeds}); "
              f"predicted US {pct(us_r)} (median {100 * np.median(us_r):.0f}, <= 20 % in "
              f"{int(np.sum(us_r <= US_MAX))}/{n_seeds}); omission dip {pct(dip_r)} (median "
              f"{100 * np.median(dip_r):.0f}, >= 20 % in {int(np.sum(dip_r >= DIP_MIN))}/"
              f"{n_seeds}) | **{model.verdict(ok)}** |")
    return model.finish(args, ok, lambda path: plot(results, path, duration))


if __name__ == "__main__":
    sys.exit(main())
