"""FrozenLake-v1 4x4 slippery (gymnasium default, 100-step limit): the spiking agent learns a
nearly optimal greedy policy; without dopamine, or with its errors shuffled in time, it
does not. Few seeds, short budgets and conservative thresholds here; the issue-5 claim
(success >= 0.70 over 1,000 greedy episodes after <= 50k steps, >= 8/10 seeds, beside the
twin, PPO and DQN) is measured by ``python scripts/bench_agent.py frozenlake --seeds 10``.

Success = mean undiscounted return (reward 1 at the goal) under the project's one
evaluation protocol (greedy, weights frozen, episode i seeded 10,000 + i). The optimal
policy scores 0.744; a uniformly random one about 0.014.
"""
from __future__ import annotations

import numpy as np
import pytest

from agents.spiking_agent import SpikingAgent
from agents.twin import RateTwinAgent
from neuromod_gym.experiments.evaluation import evaluate

ENV_ID = "FrozenLake-v1"


def success_rate(agent, n_episodes: int) -> float:
    return float(evaluate(agent, ENV_ID, n_episodes, batch=250).mean())


def test_batched_evaluation_is_the_evaluation_protocol():
    """The batched evaluation returns exactly what the one-by-one protocol returns, episode
    by episode, for a deterministic greedy policy (the twin after some learning)."""
    agent = RateTwinAgent(ENV_ID, seed=0)
    agent.learn(3000)
    np.testing.assert_array_equal(evaluate(agent, ENV_ID, 60, batch=16),
                                  evaluate(agent, ENV_ID, 60))


def test_deterministic_windows_read_out_like_the_learner():
    """With the FrozenLake defaults (state reset per window, regular 1 kHz input, no
    background) the spiking readout is a function of state and weights: predict's cached
    readout equals the learning network's own window, bit for bit."""
    agent = SpikingAgent(ENV_ID, seed=1)
    agent.learn(300)
    states = np.eye(16)
    cached = agent._predict_readout(states, np.ones(16, bool), True)
    direct = np.array([agent._learner_forward(s)[0] for s in states])
    np.testing.assert_array_equal(cached, direct)
    assert np.ptp(cached) > 0  # the readout is not silent or saturated


def test_spiking_agent_learns_frozenlake():
    """Greedy success >= 0.55 over 500 episodes after 20,000 steps in both of 2 seeds
    (random policy: ~0.014; optimum 0.744)."""
    scores = []
    for seed in range(2):
        agent = SpikingAgent(ENV_ID, seed=seed)
        agent.learn(20_000)
        scores.append(success_rate(agent, 500))
    assert min(scores) >= 0.55, scores


@pytest.mark.parametrize("dopamine", ["off", "shuffled"])
def test_negative_controls_do_not_learn_frozenlake(dopamine):
    """The same agent and budget without dopamine, or with its own TD errors delivered
    at random times, stays far below the learning test's criterion."""
    agent = SpikingAgent(ENV_ID, seed=0, dopamine=dopamine)
    agent.learn(20_000)
    score = success_rate(agent, 500)
    assert score < 0.4, score
