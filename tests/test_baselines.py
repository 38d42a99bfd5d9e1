"""stable-baselines3 baselines behind the agents' surface: rl-zoo3 hyperparameters as data,
overrides, learn/predict/save/load, determinism, and no torch import until one is built."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("stable_baselines3", reason="needs the baselines extra")

from agents.baselines import BASELINES, BaselineAgent, baseline_hyperparams  # noqa: E402


def test_rl_zoo3_hyperparameters_and_defaults():
    ppo = baseline_hyperparams("ppo", "CartPole-v1")
    assert (ppo["n_envs"], ppo["n_steps"], ppo["batch_size"], ppo["n_epochs"]) == (8, 32, 256, 20)
    assert ppo["learning_rate"] == "lin_0.001" and ppo["gae_lambda"] == 0.8
    assert baseline_hyperparams("dqn", "CartPole-v1")["policy_kwargs"] == {"net_arch": [256, 256]}
    assert baseline_hyperparams("a2c", "SomeOther-v0") == {"n_envs": 1, "policy": "MlpPolicy"}
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_hyperparams("sac", "CartPole-v1")


def test_learn_predict_and_overrides():
    agent = BaselineAgent("CartPole-v1", algorithm="ppo", seed=0)
    assert agent.model.n_envs == 8 and agent.model.n_steps == 32
    assert agent.model.learning_rate(1.0) == pytest.approx(1e-3)  # linear schedule start
    seen = []
    agent.learn(512, callback=lambda local, glob: seen.append(agent.num_timesteps))
    assert agent.num_timesteps >= 512 and seen[0] == 8  # one call per vector step
    assert len(agent.episode_returns) == len(agent.episode_lengths) > 0
    assert sum(agent.episode_lengths) <= agent.num_timesteps
    action, state = agent.predict(np.zeros(4, dtype=np.float32), deterministic=True)
    assert state is None and int(action) in (0, 1)
    small = BaselineAgent("CartPole-v1", algorithm="ppo", seed=0, n_envs=1, n_steps=64,
                          batch_size=32)
    assert small.model.n_envs == 1 and small.params["n_steps"] == 64
    with pytest.raises(ValueError, match="bad hyperparameter"):
        BaselineAgent("CartPole-v1", algorithm="a2c", no_such_argument=1)


def test_callback_false_stops_training():
    agent = BaselineAgent("CartPole-v1", algorithm="a2c", seed=0, n_envs=1)
    agent.learn(1000, callback=lambda local, glob: agent.num_timesteps < 20)
    assert agent.num_timesteps == 20


@pytest.mark.parametrize("algorithm", BASELINES)
def test_same_seed_same_training_and_save_load(algorithm, tmp_path):
    kwargs = {"n_envs": 1, "learning_starts": 50} if algorithm == "dqn" else {"n_envs": 1}
    runs = []
    for _ in range(2):
        agent = BaselineAgent("neuromod_gym/ReversalBandit-v0", algorithm=algorithm, seed=1,
                              **kwargs)
        agent.learn(300)
        obs = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
        runs.append(agent.predict(obs, deterministic=True)[0])
    np.testing.assert_array_equal(runs[0], runs[1])
    path = agent.save(tmp_path / "model")
    loaded = BaselineAgent.load(path, algorithm)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], runs[1])


def test_importing_baselines_does_not_import_torch():
    code = ("import sys, agents.baselines, neuromod_gym.experiments.sweep, "
            "neuromod_gym.experiments.evaluation; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
