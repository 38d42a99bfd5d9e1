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


def test_critic_weight_bound_caps_the_critic_only():
    """``critic_w_max`` (the CartPole entry's guard against the critic collapse) holds the
    critic's synapses at or below it (they reach it) while the actor's grow past it towards
    ``w_max``, over 2 seeds; without it the same critic grows past the bound."""
    bound = 1.6  # above the initial weights (<= 1.5), below where 2,000 steps take them
    for seed in range(2):
        bounded = SpikingAgent("CartPole-v1", seed=seed, n_critic=40, critic_w_max=bound)
        free = SpikingAgent("CartPole-v1", seed=seed, n_critic=40, critic_w_max=None)
        bounded.learn(2000)
        free.learn(2000)
        critic = bounded.unit_group == 0
        assert 0.95 * bound < bounded.weights[critic].max() <= bound, bounded.weights[critic]
        assert free.weights[critic].max() > bound, free.weights[critic].max()
        assert bounded.weights[~critic].max() > bound, bounded.weights[~critic].max()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "3", True, 1.0, 11.0])
def test_critic_weight_bound_refuses_bad_values(value):
    """Not a finite number, below the initial weights (w_init_max 1.5) or above w_max (10):
    a ValueError naming critic_w_max."""
    with pytest.raises(ValueError, match="critic_w_max"):
        SpikingAgent("CartPole-v1", seed=0, critic_w_max=value)


def test_critic_weight_bound_survives_a_checkpoint(tmp_path):
    for bound in (4.0, None):
        agent = SpikingAgent("CartPole-v1", seed=0, critic_w_max=bound)
        loaded = SpikingAgent.load(agent.save(tmp_path / "agent.npz"))
        assert loaded.params.critic_w_max == bound


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


def test_reversal_latency_definition():
    """Issue 5's latency: trials after a reversal until a trailing 20-trial window lying
    wholly after it exceeds 70% optimal; floor 20, censored at 100 (also when the next
    reversal comes first). The NE test uses the per-seed mean of these latencies."""
    from tests.bench_agent_module import bench

    block = 100
    switch_after = [0, 10, 30, 95]     # wrong choices after each reversal, then all optimal
    optimal = np.concatenate([[0] * k + [1] * (block - k) for k in switch_after])
    reversal = np.zeros(optimal.size, dtype=bool)
    reversal[::block] = True
    # 0 wrong -> floor 20; k wrong -> first n with (n - k) / 20 > 0.7 (n = k + 15, >= 20);
    # 95 wrong: no window before the next reversal -> censored at 100.
    assert bench.reversal_latencies(optimal, reversal) == [20, 25, 45, 100]
    assert bench.reversal_latency(optimal, reversal) == 35.0
    assert bench.early_optimal_rate(optimal, reversal) == pytest.approx(
        np.mean([1.0, 30 / 40, 10 / 40, 0.0]))


def test_ne_slowdown_test_needs_a_consistent_paired_difference_over_ten_seeds():
    from tests.bench_agent_module import bench

    rng = np.random.default_rng(0)
    on = {s: 24.0 + rng.normal(0, 0.5) for s in range(10)}
    slower = bench.ne_slowdown_test(on, {s: v + 1.0 + rng.normal(0, 0.3) for s, v in on.items()})
    assert slower["significant"] and slower["seeds_on_faster"] == 10
    same = bench.ne_slowdown_test(on, {s: v + rng.normal(0, 0.5) for s, v in on.items()})
    assert not same["significant"]
    few = bench.ne_slowdown_test({s: on[s] for s in range(5)},
                                 {s: on[s] + 5.0 for s in range(5)})
    assert not few["significant"]  # a p below 0.05 needs >= 10 seeds to count
    with pytest.raises(ValueError, match="common seeds"):
        bench.ne_slowdown_test({0: 1.0}, {1: 2.0})
