"""The agents' public surface: construction errors, predict protocol, checkpoints,
determinism, stable-baselines3 interoperability, and the latent-info firewall."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agents.spiking_agent import SpikingAgent
from agents.twin import RateTwinAgent
from neuromod_gym.envs import register_tasks

register_tasks()
AGENTS = [SpikingAgent, RateTwinAgent]


def _cartpole_agent(cls, seed=0, **kw):
    return cls("CartPole-v1", seed=seed, **kw)


@pytest.mark.parametrize("cls", AGENTS)
def test_bad_construction_raises_value_error(cls):
    with pytest.raises(ValueError, match="unknown architecture"):
        cls("CartPole-v1", architecture="transformer")
    with pytest.raises(ValueError, match="unknown parameter"):
        cls("CartPole-v1", learning_rate_typo=0.1)
    with pytest.raises(ValueError, match="gamma"):
        cls("CartPole-v1", gamma=1.5)
    # Box actions: actor_critic only (population-vector actor, tests/test_agent_box_actions.py)
    with pytest.raises(ValueError, match="Box actions need architecture='actor_critic'"):
        cls("Pendulum-v1", architecture="action_value")


def test_unknown_rule_raises():
    with pytest.raises(ValueError, match="unknown rule"):
        SpikingAgent("CartPole-v1", rule="backprop")


@pytest.mark.parametrize("cls", AGENTS)
def test_predict_shapes_and_wrong_shape(cls):
    agent = _cartpole_agent(cls)
    obs = np.zeros(4, np.float32)
    action, state = agent.predict(obs, deterministic=True)
    assert state is None and np.ndim(action) == 0 and 0 <= int(action) < 2
    actions, _ = agent.predict(np.zeros((3, 4), np.float32), episode_start=np.ones(3, bool))
    assert actions.shape == (3,)
    with pytest.raises(ValueError, match="observation shape"):
        agent.predict(np.zeros(5, np.float32))
    with pytest.raises(ValueError, match="observation shape"):
        agent.predict(np.zeros((2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="episode_start"):
        agent.predict(np.zeros((3, 4), np.float32), episode_start=np.ones(2, bool))


@pytest.mark.parametrize("cls", AGENTS)
def test_predict_never_changes_weights(cls):
    agent = _cartpole_agent(cls)
    agent.learn(100)
    before = agent.weights.copy()
    rng = np.random.default_rng(0)
    for i in range(30):
        agent.predict(rng.normal(size=(2, 4)).astype(np.float32), episode_start=np.array([i == 0] * 2))
    np.testing.assert_array_equal(agent.weights, before)


@pytest.mark.parametrize("cls", AGENTS)
def test_same_seed_bitwise_identical_training(cls):
    a = _cartpole_agent(cls, seed=3)
    b = _cartpole_agent(cls, seed=3)
    a.learn(300)
    b.learn(300)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.episode_returns == b.episode_returns
    c = _cartpole_agent(cls, seed=4)
    c.learn(300)
    assert not np.array_equal(a.weights, c.weights)


@pytest.mark.parametrize("cls", AGENTS)
def test_save_load_identical_predictions(cls, tmp_path):
    agent = _cartpole_agent(cls, seed=1)
    agent.learn(200)
    path = agent.save(tmp_path / "agent")
    assert str(path).endswith(".npz")
    loaded = cls.load(path, env=gym.make("CartPole-v1"))
    np.testing.assert_array_equal(loaded.weights, agent.weights)
    assert loaded.params == agent.params and loaded.architecture == agent.architecture
    obs = np.random.default_rng(0).normal(0, 0.05, size=(20, 4, 4)).astype(np.float32)
    for deterministic in (True, False):
        out_a = [agent.predict(o, episode_start=np.array([k == 0] * 4),
                               deterministic=deterministic)[0] for k, o in enumerate(obs)]
        out_b = [loaded.predict(o, episode_start=np.array([k == 0] * 4),
                                deterministic=deterministic)[0] for k, o in enumerate(obs)]
        np.testing.assert_array_equal(np.array(out_a), np.array(out_b))


def test_checkpoint_refuses_corrupt_and_mismatched(tmp_path):
    agent = _cartpole_agent(SpikingAgent)
    path = agent.save(tmp_path / "a.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a valid checkpoint"):
        SpikingAgent.load(garbage)
    no_meta = tmp_path / "no_meta.npz"
    np.savez(no_meta, weights=np.zeros(3))
    with pytest.raises(ValueError, match="no metadata"):
        SpikingAgent.load(no_meta)
    with pytest.raises(ValueError, match="agent kind"):
        RateTwinAgent.load(path)
    with pytest.raises(ValueError, match="observation space mismatch"):
        SpikingAgent.load(path, env=gym.make("MountainCar-v0"))
    # a checkpoint whose weights do not fit the architecture
    twin = _cartpole_agent(RateTwinAgent)
    twin_path = twin.save(tmp_path / "twin.npz")
    with np.load(twin_path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["weights"] = arrays["weights"][:, :5]
    bad = tmp_path / "bad_shape.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="weights"):
        RateTwinAgent.load(bad)


def test_set_env_space_mismatch():
    agent = _cartpole_agent(RateTwinAgent)
    with pytest.raises(ValueError, match="observation space mismatch"):
        agent.set_env(gym.make("Acrobot-v1"))


def test_learn_continues_episodes_across_calls():
    """Splitting a budget into several learn() calls is the same as one call."""
    a = _cartpole_agent(RateTwinAgent, seed=2)
    b = _cartpole_agent(RateTwinAgent, seed=2)
    a.learn(400)
    for _ in range(4):
        b.learn(100)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.episode_returns == b.episode_returns


class _LatentGuard(dict):
    """An info dict whose ``latent`` entry explodes when an agent touches it."""

    def __getitem__(self, key):
        if key == "latent":
            raise AssertionError("agent read info['latent']")
        return super().__getitem__(key)

    def get(self, key, default=None):
        if key == "latent":
            raise AssertionError("agent read info['latent']")
        return super().get(key, default)


class _GuardLatent(gym.Wrapper):
    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs, _LatentGuard(info)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, _LatentGuard(info)


@pytest.mark.parametrize("cls", AGENTS)
def test_agents_never_read_latent(cls):
    env = _GuardLatent(gym.make("neuromod_gym/ReversalBandit-v0"))
    agent = cls(env, seed=0, norepinephrine=True, acetylcholine=True, tonic_norepinephrine=True)
    agent.learn(200)


def test_progress_bar_and_plain_callback():
    calls = []

    def callback(local_vars, global_vars):
        calls.append(local_vars["self"].num_timesteps)
        return len(calls) < 50

    agent = _cartpole_agent(RateTwinAgent)
    agent.learn(200, callback=callback, progress_bar=True)
    assert agent.num_timesteps == 50


def test_stable_baselines3_interop():
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    agent = _cartpole_agent(SpikingAgent)

    class Stop(BaseCallback):
        def _on_step(self) -> bool:
            return self.num_timesteps < 30

    agent.learn(100, callback=Stop())
    assert agent.num_timesteps == 30
    from stable_baselines3.common.callbacks import EvalCallback

    evaluation = EvalCallback(gym.make("CartPole-v1"), eval_freq=20, n_eval_episodes=1)
    agent.learn(40, callback=evaluation)
    assert evaluation.n_calls == 40 and np.isfinite(evaluation.last_mean_reward)
    mean, std = evaluate_policy(agent, gym.make("CartPole-v1"), n_eval_episodes=2)
    assert mean > 0
    vec = make_vec_env("CartPole-v1", n_envs=4, seed=0)
    mean, std = evaluate_policy(agent, vec, n_eval_episodes=4)
    assert mean > 0
