"""The agents LEARN: measured criteria over several seeds on small budgets, conservative
thresholds (the full claims are measured by scripts/bench_agent.py over >= 10 seeds)."""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from agents.spiking_agent import SpikingAgent
from agents.twin import RateTwinAgent
from neuromod_gym.envs import register_tasks
from neuromod_gym.experiments.evaluation import evaluate

register_tasks()

RANDOM_CARTPOLE_RETURN = 22.0  # mean return of a uniformly random CartPole-v1 policy


def greedy_cartpole_return(agent, n_episodes: int = 5) -> float:
    """Mean return under the project's one evaluation protocol (greedy, frozen, seeds 10,000+)."""
    return float(evaluate(agent, "CartPole-v1", n_episodes).mean())


class _OptimalChoices(gym.Wrapper):
    """Records whether each trial's choice was optimal (for the test, not the agent)."""

    def __init__(self, env):
        super().__init__(env)
        self.optimal: list[bool] = []

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.optimal.append(bool(info["latent"]["optimal_choice"]))
        return obs, reward, terminated, truncated, info


def test_spiking_actor_critic_learns_cartpole():
    """Greedy evaluation far above random after 3,000 steps in >= 3 of 4 seeds."""
    scores = []
    for seed in range(4):
        agent = SpikingAgent("CartPole-v1", architecture="actor_critic", seed=seed)
        agent.learn(3000)
        scores.append(greedy_cartpole_return(agent))
    assert sum(s >= 150 for s in scores) >= 3, scores


def test_twin_learns_cartpole():
    scores = []
    for seed in range(4):
        agent = RateTwinAgent("CartPole-v1", seed=seed)
        agent.learn(1500)
        scores.append(greedy_cartpole_return(agent))
    assert sum(s >= 150 for s in scores) >= 3, scores


@pytest.mark.parametrize("dopamine", ["off", "shuffled"])
def test_negative_controls_do_not_learn_cartpole(dopamine):
    """Without dopamine, or with the agent's own errors delivered at random times, the
    same agent and budget stay far below the learning test's criterion."""
    scores = []
    for seed in range(2):
        agent = SpikingAgent("CartPole-v1", seed=seed, dopamine=dopamine)
        agent.learn(3000)
        scores.append(greedy_cartpole_return(agent))
    assert max(scores) < 100, scores


@pytest.mark.parametrize("cls", [SpikingAgent, RateTwinAgent])
def test_reversal_bandit_optimal_choices(cls):
    """Optimal-choice rate over trials 2,000-4,000 clearly above chance (0.5) in every seed."""
    rates = []
    for seed in range(2):
        env = _OptimalChoices(gym.make("neuromod_gym/ReversalBandit-v0"))
        agent = cls(env, seed=seed)
        agent.learn(4000)
        rates.append(float(np.mean(env.optimal[2000:])))
    assert min(rates) >= 0.7, rates
