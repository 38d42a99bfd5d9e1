"""learn() on a Gymnasium vector env: one copy of the network per sub-env, one shared
weight matrix (agents.architectures.ThreeFactorAgent.learn).

Covers: the single-env path is bitwise what it was before vector envs existed; a vector
env of one sub-env reproduces the single-env path; Gymnasium's NEXT_STEP autoreset (the
reset step is no transition and makes no update); bitwise reproducibility; the engine's
window eligibility equals the spike-train formula; callbacks; bad input; and that a population learns
CartPole (conservative criterion over a few seeds) while its dopamine-off control does not.
"""
from __future__ import annotations

import hashlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from agents.architectures import AgentParams
from agents.spiking_agent import SpikingAgent, _SpikingNetwork
from agents.twin import RateTwinAgent
from neuromod_gym.experiments.evaluation import evaluate
from neuromod_gym.signals import NeuromodulatorySignals

# sha256 of the weights after learn(500) then learn(250) on "CartPole-v1" (default
# hyperparameters), recorded at commit 4d0c420, before learn() accepted vector envs. The
# spiking agent's were re-recorded when its eligibility moved into the engine (the same
# pairings summed in spike order instead of by a matrix product): same episodes, weights
# within 9e-15 of the old ones (seeds 0 and 1, measured against f941e62).
SINGLE_ENV_WEIGHTS_SHA256 = {
    (SpikingAgent, 0): "bec11127dd043c2d",
    (SpikingAgent, 1): "0a60f25e8c44e829",
    (RateTwinAgent, 0): "86c95a8c652f70a0",
    (RateTwinAgent, 1): "27097e9601a111ef",
}


def cartpole_vector(n: int, signals: bool = False):
    def make():
        env = gym.make("CartPole-v1")
        return NeuromodulatorySignals(env) if signals else env
    return gym.vector.SyncVectorEnv([make for _ in range(n)])


class FixedLengthEpisodes(gym.Env):
    """Episodes of exactly ``length`` steps, reward 1 per step; counts its steps."""

    observation_space = spaces.Box(0.0, 1.0, (1,), dtype=np.float64)
    action_space = spaces.Discrete(2)

    def __init__(self, length: int):
        self.length = length
        self.t = 0
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(1), {}

    def step(self, action):
        assert self.action_space.contains(action)
        self.t += 1
        self.steps += 1
        return np.array([self.t / self.length]), 1.0, self.t >= self.length, False, {}


# spiking.yaml's CartPole-v1 entry before it took n_critic 160 and critic_w_max 5 (issue 5,
# single-env training-mean criterion): the spiking hashes were recorded with it, and the
# population of 8 was tuned with it (population_lr_exponent; with the new entry it learned
# in 1 of these 3 seeds, not tuned), so both keep it.
PREVIOUS_CARTPOLE_ENTRY = {"n_critic": 40, "critic_w_max": None}
RECORDED_WITH = {SpikingAgent: PREVIOUS_CARTPOLE_ENTRY, RateTwinAgent: {}}


@pytest.mark.parametrize("cls,seed", list(SINGLE_ENV_WEIGHTS_SHA256))
def test_single_env_path_bitwise_unchanged(cls, seed):
    agent = cls("CartPole-v1", seed=seed, **RECORDED_WITH[cls])
    agent.learn(500)
    agent.learn(250)
    digest = hashlib.sha256(np.ascontiguousarray(agent.weights).tobytes()).hexdigest()
    assert digest.startswith(SINGLE_ENV_WEIGHTS_SHA256[(cls, seed)]), digest


def test_vector_env_of_one_reproduces_the_single_env_path():
    """Same episodes, same weights (up to summation order): the vector path's episode
    handling (autoreset, bootstrap, trace reset, counting) is the single path's."""
    single = RateTwinAgent("CartPole-v1", seed=3)
    single.learn(1200)
    vector = RateTwinAgent(cartpole_vector(1, signals=True), seed=3)
    vector.learn(1200)
    assert vector.num_timesteps == single.num_timesteps == 1200
    assert vector.episode_returns == single.episode_returns
    np.testing.assert_allclose(vector.weights, single.weights, rtol=0, atol=1e-12)


def test_autoreset_step_is_no_transition_and_makes_no_update():
    envs = [FixedLengthEpisodes(3), FixedLengthEpisodes(5)]
    venv = gym.vector.SyncVectorEnv([lambda e=e: e for e in envs])
    agent = RateTwinAgent(venv, seed=0, w_init_max=0.1)
    vector_step = {"index": 0}
    updated_steps, dones_seen = [], []
    original_apply = agent._apply

    def spy_apply(dw):
        updated_steps.append(vector_step["index"])
        original_apply(dw)

    def callback(local_vars, global_vars):
        dones_seen.append(np.array(local_vars["dones"]))
        vector_step["index"] += 1
        return True

    agent._apply = spy_apply
    agent.learn(60, callback=callback)
    # only real transitions are counted: the sub-envs' own step() calls
    assert agent.num_timesteps == envs[0].steps + envs[1].steps
    assert 60 <= agent.num_timesteps < 62
    assert set(agent.episode_lengths) == {3, 5}
    assert agent.episode_returns == [float(n) for n in agent.episode_lengths]
    # a vector step where BOTH sub-envs reset (every 4th and 6th step: step 12, 24, ...)
    # has no transition and must not update the weights; every other step does
    resetting = np.zeros(2, bool)
    expected = []
    for index, dones in enumerate(dones_seen):
        if not resetting.all():
            expected.append(index)
        resetting = dones
    assert updated_steps == expected
    assert len(updated_steps) < len(dones_seen)  # both-reset steps occurred


def test_autoreset_on_one_env_skips_exactly_the_reset_steps():
    env = FixedLengthEpisodes(3)
    agent = RateTwinAgent(gym.vector.SyncVectorEnv([lambda: env]), seed=0, w_init_max=0.1)
    calls = {"apply": 0, "steps": 0}
    original_apply = agent._apply

    def spy_apply(dw):
        calls["apply"] += 1
        original_apply(dw)

    def callback(local_vars, global_vars):
        calls["steps"] += 1
        return True

    agent._apply = spy_apply
    agent.learn(30, callback=callback)
    assert agent.num_timesteps == env.steps == 30
    assert calls["apply"] == 30                 # one update per transition
    assert calls["steps"] == 30 + 9             # + the 9 reset steps between 10 episodes
    assert agent.episode_lengths == [3] * 10


@pytest.mark.parametrize("cls", [SpikingAgent, RateTwinAgent])
def test_vector_training_is_bitwise_reproducible(cls):
    def train(seed):
        agent = cls(cartpole_vector(4), seed=seed)
        agent.learn(300)
        agent.learn(300)
        return agent

    a, b, c = train(5), train(5), train(6)
    assert np.array_equal(a.weights, b.weights)
    assert a.episode_returns == b.episode_returns and a.num_timesteps == b.num_timesteps
    assert not np.array_equal(a.weights, c.weights)


def _window_eligibility_from_spikes(pre, post, x_carry, y_carry, a, ltd_ratio):
    """The agent's window eligibility (spiking_agent module docstring) computed from the
    spike trains pre (K, n_in) and post (K, n_out) of one copy, independently of the
    engine: e_ji = sum_t post_j(t) x_i(t-) + ltd_ratio pre_i(t) y_j(t-), traces decayed
    before the step's increments; returns (e, x at the end, y at the end)."""
    x, y = x_carry.copy(), y_carry.copy()
    e = np.zeros((post.shape[1], pre.shape[1]))
    for t in range(pre.shape[0]):
        x *= a
        y *= a
        e += np.outer(post[t], x) + ltd_ratio * np.outer(y, pre[t])
        x += pre[t]
        y += post[t]
    return e, x, y


@pytest.mark.parametrize("architecture", ["actor_critic", "rstdp"])
def test_engine_window_eligibility_equals_the_spike_train_formula(architecture):
    """The eligibility the engine accumulates for the agent (an eligibility-only rule)
    equals the docstring formula evaluated on the recorded spikes, for every copy of a
    population, across windows (traces carry over) and resets of some copies; the counts
    are the output spikes of the window; an eligibility-free copy spikes identically."""
    agent = SpikingAgent("CartPole-v1", architecture=architecture, seed=0)
    p = agent.params
    B = 3
    net = _SpikingNetwork(p, agent.weights.shape[1], agent.unit_group, agent._competing,
                          seed=7, first_index=3, population_size=B, spike_capacity=100_000)
    plain = _SpikingNetwork(p, agent.weights.shape[1], agent.unit_group, agent._competing,
                            seed=7, first_index=3, population_size=B, eligibility=False,
                            spike_capacity=100_000)
    for n in (net, plain):
        n.set_weights(agent.weights)
    a = np.exp(-p.dt_ms / p.pre_trace_ms)
    x = np.zeros((B, net.n_in))
    y = np.zeros((B, net.n_out))
    rng = np.random.default_rng(0)
    checked = 0
    for k in range(40):
        features = rng.random((B, net.n_in))
        features[:, :4] = 0.0  # silent inputs
        t0 = net.net.t
        counts, elig = net.window(features)
        plain_counts, none = plain.window(features)
        assert none is None and np.array_equal(plain_counts, counts)
        raster = net.net.spike_raster(t0)
        assert np.array_equal(raster, plain.net.spike_raster(t0))
        for b in range(B):
            pre = raster[b, :, net.inputs.start:net.inputs.stop]
            post = raster[b, :, net.outputs.start:net.outputs.stop]
            assert np.array_equal(counts[b], post.sum(axis=0))
            expected, x[b], y[b] = _window_eligibility_from_spikes(pre, post, x[b], y[b], a,
                                                                   p.stdp_ltd_ratio)
            np.testing.assert_allclose(elig[b], expected, rtol=0, atol=1e-12)
            checked += np.count_nonzero(expected)
        if k % 10 == 5:
            reset = np.array([True, False, True])
            for n in (net, plain):
                n.reset(reset)
            x[reset] = 0.0
            y[reset] = 0.0
    assert checked > 10_000  # the comparison saw real pairings
    if architecture == "rstdp":
        assert np.any(elig < 0)  # the LTD term took part


def test_spike_raster_matches_the_spike_record():
    agent = SpikingAgent("CartPole-v1", seed=0)
    net = _SpikingNetwork(agent.params, agent.weights.shape[1], agent.unit_group,
                          agent._competing, seed=1, first_index=0, population_size=2,
                          spike_capacity=10_000)
    net.set_weights(agent.weights)
    engine = net.net
    for _ in range(3):
        engine.set_source_probabilities(net.inputs, np.full((2, net.n_in), 0.1))
        t0, before = engine.t, engine.spike_count.copy()
        engine.run(net.substeps)
        scanned = engine.spike_raster(t0)
        counted = engine.spike_raster(t0, spike_count_before=before)
        assert np.array_equal(scanned, counted) and scanned.sum() > 0
        for b in range(2):
            times, ids = engine.spikes(b)
            keep = times >= t0
            expected = np.zeros(scanned.shape[1:])
            expected[times[keep] - t0, ids[keep]] = 1
            assert np.array_equal(scanned[b], expected)


def test_callbacks_and_progress_bar():
    from stable_baselines3.common.callbacks import StopTrainingOnMaxEpisodes

    agent = RateTwinAgent(cartpole_vector(3), seed=0)
    agent.learn(100_000, callback=StopTrainingOnMaxEpisodes(max_episodes=4))
    assert 12 <= len(agent.episode_returns) < 15  # 4 x 3 sub-envs, then it stops
    calls = []
    agent.learn(90, callback=lambda local_vars, global_vars: calls.append(1) or len(calls) < 5,
                progress_bar=True)
    assert len(calls) == 5


def test_async_vector_env():
    venv = gym.vector.AsyncVectorEnv([lambda: gym.make("CartPole-v1")] * 2)
    try:
        agent = RateTwinAgent(venv, seed=0)
        agent.learn(200)
        assert agent.num_timesteps >= 200 and agent.episode_returns
    finally:
        venv.close()


def test_bad_input_raises_value_error():
    agent = SpikingAgent("CartPole-v1", seed=0)
    with pytest.raises(ValueError, match="observation space mismatch"):
        agent.set_env(gym.vector.SyncVectorEnv([lambda: gym.make("Acrobot-v1")]))
    class ThreeActions(FixedLengthEpisodes):
        action_space = spaces.Discrete(3)

    with pytest.raises(ValueError, match="action space mismatch"):
        RateTwinAgent(FixedLengthEpisodes(3)).set_env(
            gym.vector.SyncVectorEnv([lambda: ThreeActions(3)]))
    same_step = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")],
                                         autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    with pytest.raises(ValueError, match="autoreset_mode"):
        RateTwinAgent(same_step)
    from stable_baselines3.common.vec_env import DummyVecEnv
    with pytest.raises(ValueError, match="Gymnasium vector envs"):
        RateTwinAgent(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    with pytest.raises(ValueError, match="novelty"):
        RateTwinAgent(cartpole_vector(2), norepinephrine=True).learn(10)
    RateTwinAgent(cartpole_vector(2, signals=True), norepinephrine=True).learn(10)
    with pytest.raises(ValueError, match="population_lr_exponent"):
        AgentParams(population_lr_exponent=1.5)


def test_spiking_population_learns_cartpole():
    """8 copies on 8 CartPole envs: greedy evaluation far above random (22) after 8,000
    env steps in >= 2 of 3 seeds (scripts/bench_agent.py speed measures solving, >= 10
    seeds); the same population without dopamine stays far below."""
    scores, controls = [], []
    for seed in range(3):
        agent = SpikingAgent(cartpole_vector(8), seed=seed, **PREVIOUS_CARTPOLE_ENTRY)
        agent.learn(8000)
        scores.append(float(evaluate(agent, "CartPole-v1", 5).mean()))
    for seed in range(2):
        agent = SpikingAgent(cartpole_vector(8), seed=seed, dopamine="off",
                             **PREVIOUS_CARTPOLE_ENTRY)
        agent.learn(8000)
        controls.append(float(evaluate(agent, "CartPole-v1", 5).mean()))
    assert sum(s >= 150 for s in scores) >= 2, scores
    assert max(controls) < 100, controls


def test_twin_population_learns_cartpole():
    scores = []
    for seed in range(3):
        agent = RateTwinAgent(cartpole_vector(8), seed=seed)
        agent.learn(3000)
        scores.append(float(evaluate(agent, "CartPole-v1", 5).mean()))
    assert sum(s >= 150 for s in scores) >= 2, scores
