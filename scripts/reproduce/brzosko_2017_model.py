"""The navigation model of Brzosko et al. (2017), built with the engine; used by
``brzosko_2017_goal_switch.py``.

Paper: Z. Brzosko, S. Zannone, W. Schultz, C. Clopath & O. Paulsen (2017), Sequential
neuromodulation of Hebbian plasticity offers mechanism for effective reward-based
navigation, eLife 6:e27756. An agent in an open field; 121 place cells project all-to-all
with plastic weights onto a ring of 40 action neurons whose lateral connections (local
excitation, global inhibition) let one bump of activity form; the heading is the
population vector of the action neurons. Plasticity is a SYMMETRIC STDP eligibility;
acetylcholine (ACh), present while the agent explores, turns eligible synapses toward
depression; dopamine (DA), released at the goal, converts the recent eligibility into
potentiation. Parameters marked "code" follow a public Python port of the authors' model
found with the project's code search ("python version of the snPlast model from Brzosko
et al., 2017, adapted for the circular open field maze", with its ``help_func.py``; read,
not copied): 121 place cells 0.4 a.u. apart, peak rate 400 Hz, 40 action neurons,
lateral kernel exp(psi cos(dtheta)) with psi = 20, border place cells wired only to
inward headings (14 of 40), symmetric window 10 ms (a+ = a- = 1), tau_e = 2 s, 15 s
trials, goal radius 0.3 a.u., place cells silent after the goal, 40 trials with the
switch after 20. That port may differ from the paper's own simulations, and the paper
itself was not available offline: every published number here is "unverified".
Everything else is a MODEL CHOICE, marked so.

Equations (engine units: ms, mV, nA; one network per agent):

* place cells ``i`` (121 :class:`~agents.snn.PoissonSource`): rate
  ``rho_i(x) = rho_max exp(-|x - x_i|^2 / (2 sigma^2))`` with ``rho_max`` = 400 Hz (code),
  centres on the 11 x 11 grid over the 4 x 4 a.u. arena, sigma = grid spacing 0.4 a.u.
  (the ``place`` :class:`agents.architectures.FeatureEncoder`; the code's field is
  exp(-d^2 / sigma^2), a factor sqrt 2 narrower: model choice, the project's one place
  encoder). Silent outside exploration.
* action neurons ``k`` (40 :class:`~agents.snn.LIF`, heading ``theta_k = 2 pi k / 40``):
  ``tau_m dv/dt = (v_rest - v) + R I``, ``tau_syn dI/dt = -I`` with tau_m 20 ms, tau_syn
  5 ms, R 100 MOhm, threshold 20 mV above rest, refractory 2 ms (the code uses an escape-
  noise spike response model; LIF + noise current is the engine's equivalent: model
  choice). Noise: a current uniform in [-0.3, 0.3) nA every ms (``NOISE_NA``; model
  choice; sets how much the bump, hence the heading, wanders).
* ring (fixed): ``W_lat[k, l] = W_INH / 40 + W_EXC f(theta_k - theta_l) / sum_l f`` with
  ``f(d) = exp(psi cos d)`` (self excluded), psi = 20 (code); ``W_EXC`` = 2 nA,
  ``W_INH`` = -4 nA are model choices scaled to the LIF (the code's 100 / -300 are in its
  own potential units); one bump about 10 neurons wide forms and drifts.
* feed-forward place -> action (plastic, the ``brzosko`` rule preset,
  :class:`agents.rules.SequentialNeuromodulationParams`), all-to-all except that a place
  cell on the arena border reaches only the action neurons within +-63 deg of the inward
  normal (:func:`wall_mask`; code: it stops the agent from pressing into a wall, it says
  nothing about the goal)::

      x_pre, x_post: +1 per spike, tau 10 ms (code: symmetric window, a+ = a- = 1)
      c  <- c exp(-dt / tau_e) ; pre spike: c += x_post ; post spike: c += x_pre
      dw/dt = eta (g_DA DA(t) - g_ACh ACh(t)) c(t),   w in [W_MIN, W_MAX]

  tau_e = 2 s (code); eta = ``LEARNING_RATE`` = 3e-9 nA per (unit modulator x unit
  eligibility x ms), g_DA = 40, g_ACh = 1 (the preset's gains), bounds [0, 0.06] nA
  (model choices; the code's weights live in [1, 3] of its own units). Initial weights
  uniform in [0.015, 0.035] nA per agent seed (random: no hand-wiring toward any goal;
  model choice, the code starts all at 2). Ratio of the two conversions: a DA pulse
  converts g_DA DA_PULSE DA_TAU_MS / (g_ACh ACH_LEVEL tau_e) = 4 times the eligibility
  of the last ~2 s into potentiation, ACh depresses by all of it (the code: eta_DA /
  eta_ACh = 5 per unit of the same quantity).
* modulators: ACh = ``ach_level`` (default 1, ``ACH_LEVEL``) on every step of
  exploration when ``acetylcholine=True``, else 0 (an engine modulator with tau 0: its
  level is what is supplied per step); DA: a pulse of 1 (``DA_PULSE``) on the first
  neural step after the env step that reached the goal (0-50 ms after it), decaying with
  tau 200 ms (``DA_TAU_MS``). Model choices: the code jumps w = w_start + eta_DA c at the
  end of a rewarded trial (300 ms after the goal), w_start being the weights at the
  start of the trial, so a rewarded trial's ACh depression is discarded; a rule with
  continuous conversion cannot do that, and here that depression stays.
* readout: spike counts filtered with ``RATE_TAU_MS`` = 50 ms (code: a 50/20 ms kernel);
  heading = angle of ``sum_k r_k (cos theta_k, sin theta_k)``, moved at the env's fixed
  speed (2 a.u./s; the code's speed scales with the rate: model choice), the previous
  heading kept while no action neuron has fired.

Trial protocol: ``OpenFieldNavigation-v0`` with ``continuous=True``, ``dt_ms`` =
``ENV_DT_MS`` (one heading per 50 ms), 15 s time-out, goal relocated (mirrored through
the centre) from trial 20 (0-based) on. After the trial (goal or time-out) the place
cells are silent for ``INTER_TRIAL_MS`` (DA acts, eligibility decays; model choice), then
the neurons are reset and the next trial starts from one of the four release points.
Agents never read ``info["latent"]``; the latency is ``info["t_ms"]`` at the last step.

Agents run as a population of engine networks in lock step (one per agent, each at its
own trial); network ``b`` built with ``network_indices=[seed]`` is bitwise the same as
the agent run alone (:func:`run_agent`), whatever the batch.
"""
from __future__ import annotations

import math
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import gymnasium as gym
import numpy as np
from tqdm import tqdm

import neuromod_gym  # noqa: F401  (registers the tasks)
from agents.architectures import FeatureEncoder
from agents.rules import SequentialNeuromodulationParams
from agents.snn import LIF, Explicit, Modulator, NetworkBuilder, PoissonSource

FIGURES = REPO_ROOT / "docs" / "figures"
ENV_ID = "neuromod_gym/OpenFieldNavigation-v0"

N_PLACE_SIDE = 11            # 11 x 11 = 121 place cells (code)
N_ACTION = 40                # ring of action neurons (code)
N_TRIALS = 40                # trials per agent (code)
SWITCH_TRIAL = 20            # the goal moves from this 0-based trial on (code)
TRIAL_TIMEOUT_MS = 15000.0   # (code)
ENV_DT_MS = 50.0             # one heading per 50 ms: model choice
DT_MS = 1.0                  # neural time step, ms
PLACE_RATE_HZ = 400.0        # peak place-cell rate (code)
RATE_TAU_MS = 50.0           # readout filter of the action spikes: model choice
INTER_TRIAL_MS = 3000.0      # silent period after each trial: model choice

ARENA_HALF_SIZE = 2.0        # the env's default 4 x 4 a.u. arena
WALL_HALF_ANGLE_DEG = 63.0   # border place cells drive only inward headings (code: 14 of 40)
LIF_ACTION = LIF(tau_m_ms=20.0, tau_syn_ms=5.0, v_rest_mV=-70.0, v_reset_mV=-70.0,
                 v_thresh_mV=-50.0, refractory_ms=2.0, r_m_Mohm=100.0)
NOISE_NA = 0.3               # uniform noise current amplitude, nA per ms: model choice
RING_PSI = 20.0              # lateral kernel sharpness (code)
W_EXC = 2.0                  # nA, total lateral excitation onto a neuron: model choice
W_INH = -4.0                 # nA, total lateral inhibition (global): model choice

W_MIN, W_MAX = 0.0, 0.06     # nA, feed-forward bounds: model choice
W_INIT_LOW, W_INIT_HIGH = 0.015, 0.035   # nA, random initial weights: model choice
STDP_TAU_MS = 10.0           # symmetric window (code)
ELIGIBILITY_TAU_MS = 2000.0  # tau_e (code)
LEARNING_RATE = 3e-9         # eta, nA per unit modulator per unit eligibility per ms: model choice
DA_GAIN = 40.0               # g_DA (the rule preset's default)
ACH_GAIN = 1.0               # g_ACh (the rule preset's default)
ACH_LEVEL = 1.0              # ACh during exploration (acetylcholine=True): model choice
DA_PULSE = 1.0               # DA added at the goal: model choice
DA_TAU_MS = 200.0            # DA decay: model choice


def ring_weights(n_action: int = N_ACTION, psi: float = RING_PSI, w_exc: float = W_EXC,
                 w_inh: float = W_INH) -> np.ndarray:
    """Lateral weight matrix ``W[pre, post]`` (nA): global inhibition ``w_inh / n`` plus local
    excitation ``w_exc f / sum f`` with ``f = exp(psi cos(theta_pre - theta_post))``, no
    self-connection (the code's kernel, normalised so ``w_exc`` is the total excitation)."""
    theta = 2.0 * np.pi * np.arange(n_action) / n_action
    f = np.exp(psi * (np.cos(theta[:, None] - theta[None, :]) - 1.0))
    np.fill_diagonal(f, 0.0)
    w = w_inh / n_action + w_exc * f / f.sum(axis=0, keepdims=True)
    np.fill_diagonal(w, 0.0)
    return w


def place_centres() -> np.ndarray:
    """Place-field centres in arena units, in the order of the ``place`` encoder's features."""
    encoder = FeatureEncoder(gym.spaces.Box(-1.0, 1.0, (2,), np.float32), "place",
                             place_cells_per_side=N_PLACE_SIDE)
    return (encoder.place_centres * 2.0 - 1.0) * ARENA_HALF_SIZE


def wall_mask(allowed_half_angle_deg: float = WALL_HALF_ANGLE_DEG) -> np.ndarray:
    """Which place -> action synapses exist, ``(121, 40)`` bool: all of them, except that a
    place cell on the arena border connects only to the action neurons whose heading is
    within ``allowed_half_angle_deg`` of the inward normal (corner cells: the inward
    diagonal). The code's ``weights_walls`` (14 of 40 headings, about +-63 deg, at the
    boundary cells of its circular arena): it keeps the agent from pressing into a wall;
    it says nothing about where the goal is."""
    centres = place_centres()
    on_edge = np.isclose(np.abs(centres), ARENA_HALF_SIZE)
    inward = -np.sign(centres) * on_edge
    theta = 2.0 * np.pi * np.arange(N_ACTION) / N_ACTION
    directions = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    mask = np.ones((centres.shape[0], N_ACTION), dtype=bool)
    border = on_edge.any(axis=1)
    normal = inward[border] / np.linalg.norm(inward[border], axis=1, keepdims=True)
    cos_limit = math.cos(math.radians(allowed_half_angle_deg))
    mask[border] = normal @ directions.T >= cos_limit - 1e-9
    return mask


def rule_params(learning_rate: float = LEARNING_RATE) -> SequentialNeuromodulationParams:
    """The ``brzosko`` preset with this model's window, tau_e, gains and bounds."""
    return SequentialNeuromodulationParams(
        amplitude=1.0, stdp_tau_ms=STDP_TAU_MS, eligibility_tau_ms=ELIGIBILITY_TAU_MS,
        learning_rate=learning_rate, ach_depression_gain=ACH_GAIN,
        da_potentiation_gain=DA_GAIN, w_min=W_MIN, w_max=W_MAX)


def build_network(seeds, learning_rate: float = LEARNING_RATE):
    """One engine network per agent seed (population axis): ``(net, place, action)``.

    Network ``b`` uses ``network_indices=[seeds[b]]`` and initial feed-forward weights
    drawn from ``default_rng([seed, 1])``, so an agent's run depends on its seed only."""
    builder = NetworkBuilder(dt_ms=DT_MS, topology_seed=0)
    place = builder.add_population("place", N_PLACE_SIDE ** 2, PoissonSource())
    action = builder.add_population("action", N_ACTION, LIF_ACTION)
    allowed = wall_mask()
    pre_pc, post_an = np.nonzero(allowed)
    builder.connect(place, action, Explicit(place.start + pre_pc, action.start + post_an),
                    weight=0.5 * (W_MIN + W_MAX), plastic=True)
    lateral = ring_weights()
    pre, post = np.nonzero(lateral)
    builder.connect(action, action, Explicit(action.start + pre, action.start + post),
                    weight=lateral[pre, post])
    builder.set_noise_current(action, -NOISE_NA, NOISE_NA)
    seeds = [int(s) for s in seeds]
    net = builder.build(
        population_size=len(seeds), seed=0, network_indices=seeds,
        rule=rule_params(learning_rate).build(),
        modulators=[Modulator("DA", DA_TAU_MS), Modulator("ACh", 0.0)],
        spike_capacity=20_000)
    plastic = net.synapse_table()["plastic"]
    for b, seed in enumerate(seeds):
        w = net.weights()[b]
        rng = np.random.default_rng([seed, 1])
        w[plastic] = rng.uniform(W_INIT_LOW, W_INIT_HIGH, int(plastic.sum()))
        net.set_weights(w, network=b)
    return net, place, action


def make_env():
    return gym.make(ENV_ID, continuous=True, dt_ms=ENV_DT_MS, trial_timeout_ms=TRIAL_TIMEOUT_MS,
                    relocate_after_trials=SWITCH_TRIAL)


def run_agents(seeds, acetylcholine: bool, n_trials: int = N_TRIALS, ach_level: float = ACH_LEVEL,
               learning_rate: float = LEARNING_RATE, record_paths: bool = False,
               progress: bool = True, desc: str = ""):
    """Run one agent per seed for ``n_trials`` trials, all in one engine population.

    Returns a dict: ``latency_ms`` and ``success`` (arrays ``(n_agents, n_trials)``),
    ``goals`` (first and relocated goal centre per agent, from the env object for plots
    only), ``paths`` (per agent a list of per-trial (x, y) arrays, if ``record_paths``).
    ``acetylcholine``: ACh at ``ach_level`` during exploration (ACh+DA) or never (DA only).
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one agent, got none")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
    if bad:
        raise ValueError(f"seeds must be integers >= 0, got {bad}")
    seeds = [int(s) for s in seeds]
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials!r}")
    B = len(seeds)
    net, place, action = build_network(seeds, learning_rate)
    encoder = FeatureEncoder(gym.spaces.Box(-1.0, 1.0, (2,), np.float32), "place",
                             place_cells_per_side=N_PLACE_SIDE)
    place_p = PLACE_RATE_HZ * DT_MS / 1000.0
    envs = [make_env() for _ in seeds]
    steps = round(ENV_DT_MS / DT_MS)
    iti_windows = round(INTER_TRIAL_MS / ENV_DT_MS)
    theta = 2.0 * np.pi * np.arange(N_ACTION) / N_ACTION
    directions = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    rate_decay = math.exp(-ENV_DT_MS / RATE_TAU_MS)
    fresh_neurons = net.neuron_state()

    latency = np.full((B, n_trials), np.nan)
    success = np.zeros((B, n_trials), dtype=bool)
    paths = [[] for _ in seeds]
    goals = []
    trial = np.zeros(B, dtype=int)          # index of the current trial
    exploring = np.zeros(B, dtype=bool)     # in a trial (else: inter-trial or done)
    silent_left = np.zeros(B, dtype=int)    # inter-trial windows left
    rates = np.zeros((B, N_ACTION))
    heading = np.zeros((B, 2))
    obs = np.zeros((B, 2))
    path_now = [[] for _ in seeds]
    da_due = np.zeros(B, dtype=bool)

    for b, env in enumerate(envs):
        obs[b], _ = env.reset(seed=seeds[b])
        exploring[b] = True
        goals.append([tuple(env.unwrapped.goal), None])  # hidden: for the figure only
        angle = np.random.default_rng([seeds[b], 2]).uniform(0, 2 * np.pi)
        heading[b] = (math.cos(angle), math.sin(angle))
        path_now[b].append(obs[b] * env.unwrapped.half_size)
    release = np.zeros((B, steps, 2))
    bar = tqdm(total=B * n_trials, unit="trial", desc=desc or ("ACh+DA" if acetylcholine else "DA only"),
               file=sys.stderr, mininterval=2.0,
               disable=not progress or os.environ.get("TQDM_DISABLE") == "1")
    while np.any(trial < n_trials):
        probabilities = np.where(exploring[:, None], place_p * encoder(obs), 0.0)
        net.set_source_probabilities(place, probabilities)
        release[:] = 0.0
        release[:, :, 1] = np.where(exploring & acetylcholine, ach_level, 0.0)[:, None]
        release[da_due, 0, 0] = DA_PULSE
        da_due[:] = False
        since = net.t
        count_before = net.spike_count.copy()
        net.run(steps, release=release)
        raster = net.spike_raster(since, spike_count_before=count_before)
        counts = raster[:, :, action.start:action.stop].sum(axis=1)
        rates = rates * rate_decay + counts
        for b in range(B):
            if trial[b] >= n_trials:
                continue
            if not exploring[b]:
                silent_left[b] -= 1
                if silent_left[b] <= 0:
                    net.restore_neuron_state(fresh_neurons, np.arange(B) == b)
                    rates[b] = 0.0
                    obs[b], _ = envs[b].reset()
                    if trial[b] == SWITCH_TRIAL:
                        goals[b][1] = tuple(envs[b].unwrapped.goal)  # hidden: figure only
                    path_now[b] = [obs[b] * envs[b].unwrapped.half_size]
                    exploring[b] = True
                continue
            vector = rates[b] @ directions
            norm = float(np.hypot(*vector))
            if norm > 0.0:
                heading[b] = vector / norm
            obs[b], reward, terminated, truncated, info = envs[b].step(heading[b].astype(np.float32))
            path_now[b].append(obs[b] * envs[b].unwrapped.half_size)
            if terminated or truncated:
                k = trial[b]
                latency[b, k] = info["t_ms"]
                success[b, k] = bool(terminated and reward > 0)
                da_due[b] = success[b, k]
                if record_paths:
                    paths[b].append(np.array(path_now[b]))
                trial[b] += 1
                exploring[b] = False
                silent_left[b] = iti_windows
                bar.update(1)
    bar.close()
    return {"seeds": seeds, "latency_ms": latency, "success": success,
            "goals": [tuple(g) for g in goals],
            "paths": paths if record_paths else None,
            "weights": net.weights()}


def run_agent(seed: int, acetylcholine: bool, n_trials: int = N_TRIALS, **kwargs):
    """One agent for ``n_trials`` trials on OpenFieldNavigation-v0 with the goal moved after
    trial 20: ``(latency_ms, success)`` arrays of length ``n_trials`` (see
    :func:`run_agents`; the same numbers as that agent inside any batch)."""
    out = run_agents([seed], acetylcholine, n_trials, **kwargs)
    return out["latency_ms"][0], out["success"][0]
