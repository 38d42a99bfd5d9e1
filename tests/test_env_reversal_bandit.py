"""ReversalBandit-v0: the reversal structure, the reward rates and the observer's surprise are real."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import neuromod_gym  # noqa: F401  (registers the tasks)
from neuromod_gym.envs.reversal_bandit import ReversalBanditEnv
from neuromod_gym.signals import LATENT, NOVELTY, SURPRISE, T_MS, UNCERTAINTY, OutcomeObserver


def play(env: ReversalBanditEnv, policy, n_trials: int, seed: int | None = 0):
    """Run ``n_trials`` trials; policy(observation, history) -> arm. Returns per-trial records."""
    observation, info = env.reset(seed=seed)
    records = []
    for _ in range(n_trials):
        arm = policy(observation, records)
        observation, reward, terminated, truncated, info = env.step(arm)
        records.append({"arm": arm, "reward": reward, "obs": observation, "info": info, "truncated": truncated})
        assert not terminated
        if truncated:
            observation, _ = env.reset()
    return records


def random_policy(rng):
    return lambda observation, history: int(rng.integers(2))


def test_default_task_is_two_arms_80_20_reversing_every_100_trials():
    env = gym.make("neuromod_gym/ReversalBandit-v0").unwrapped
    assert env.action_space == gym.spaces.Discrete(2)
    assert env.observation_space.shape == (3,) and env.observation_space.dtype == np.float32
    assert sorted(env.reward_probabilities) == [0.2, 0.8]
    assert env.reversal_every_trials == 100


def test_best_arm_flips_exactly_at_each_reversal():
    env = ReversalBanditEnv(trials_per_episode=None)
    records = play(env, random_policy(np.random.default_rng(0)), 1000)
    latents = [r["info"][LATENT] for r in records]
    assert [lat["trial"] for lat in latents] == list(range(1000))
    reversal_trials = [lat["trial"] for lat in latents if lat["reversal"]]
    assert reversal_trials == list(range(100, 1000, 100))
    for previous, current in zip(latents, latents[1:]):
        flipped = current["best_arm"] != previous["best_arm"]
        assert flipped == current["reversal"], current
        if current["reversal"]:
            assert current["trials_since_reversal"] == 0
        else:
            assert current["trials_since_reversal"] == previous["trials_since_reversal"] + 1
    for lat in latents:
        assert lat["optimal_choice"] == (lat["chosen_arm"] == lat["best_arm"])
        assert lat["chosen_arm_probability"] == pytest.approx(0.8 if lat["optimal_choice"] else 0.2)


def test_hazard_mode_reverses_at_the_configured_rate_and_nowhere_else():
    env = ReversalBanditEnv(reversal_every_trials=None, reversal_hazard=0.05, trials_per_episode=None)
    records = play(env, random_policy(np.random.default_rng(1)), 6000, seed=3)
    latents = [r["info"][LATENT] for r in records]
    reversal_trials = [lat["trial"] for lat in latents if lat["reversal"]]
    # 5999 chances at 5 %: mean 300, sd ~17.
    assert 240 < len(reversal_trials) < 360
    gaps = np.diff(reversal_trials)
    assert len(set(gaps.tolist())) > 20, "hazard reversals look periodic"
    for previous, current in zip(latents, latents[1:]):
        assert (current["best_arm"] != previous["best_arm"]) == current["reversal"]


def test_stationary_bandit_never_reverses():
    env = ReversalBanditEnv(reversal_every_trials=None, trials_per_episode=None)
    records = play(env, random_policy(np.random.default_rng(2)), 500)
    assert not any(r["info"][LATENT]["reversal"] for r in records)
    assert len({r["info"][LATENT]["best_arm"] for r in records}) == 1


@pytest.mark.parametrize("probabilities", [(0.8, 0.2), (0.7, 0.45, 0.1)])
def test_empirical_reward_rates_match_the_configured_probabilities(probabilities):
    env = ReversalBanditEnv(reward_probabilities=probabilities, reversal_every_trials=50, trials_per_episode=None)
    rng = np.random.default_rng(4)
    records = play(env, lambda obs, hist: int(rng.integers(len(probabilities))), 24000)
    for probability in probabilities:
        rewards = [r["reward"] for r in records if r["info"][LATENT]["chosen_arm_probability"] == probability]
        assert len(rewards) > 5000
        standard_error = math.sqrt(probability * (1 - probability) / len(rewards))
        assert abs(np.mean(rewards) - probability) < 4 * standard_error + 1e-9, probability
    # A reversal permutes the arms: the multiset of probabilities is preserved and a new arm is best.
    latents = [r["info"][LATENT] for r in records]
    best_arms = {lat["best_arm"] for lat in latents}
    assert len(best_arms) == len(probabilities)


def test_observation_carries_the_previous_action_and_reward():
    env = ReversalBanditEnv()
    observation, info = env.reset(seed=5)
    np.testing.assert_array_equal(observation, [0.0, 0.0, 0.0])
    assert info[NOVELTY] == 1.0 and info[SURPRISE] == 0.0 and info[T_MS] == 0.0
    for arm in [1, 0, 0, 1, 1, 1, 0]:
        observation, reward, _, _, info = env.step(arm)
        expected = np.zeros(3, dtype=np.float32)
        expected[arm] = 1.0
        expected[2] = reward
        np.testing.assert_array_equal(observation, expected)
        assert reward in (0.0, 1.0)
        assert ("reward" in info["events"]) == (reward == 1.0)
        assert "choice" in info["events"]


def test_constant_observation_mode_shows_nothing_but_a_fixation_light():
    env = ReversalBanditEnv(observation_mode="constant")
    observation, _ = env.reset(seed=0)
    assert env.observation_space.shape == (1,)
    for arm in [0, 1, 1, 0]:
        np.testing.assert_array_equal(observation, [1.0])
        observation, *_ = env.step(arm)
    np.testing.assert_array_equal(observation, [1.0])


def test_arm_assignment_is_random_per_run_unless_disabled():
    first_best = {ReversalBanditEnv().reset(seed=s)[1][LATENT]["best_arm"] for s in range(20)}
    assert first_best == {0, 1}
    fixed = {ReversalBanditEnv(randomize_arms=False).reset(seed=s)[1][LATENT]["best_arm"] for s in range(20)}
    assert fixed == {0}


def lagged_oracle(lag: int):
    """Picks the arm that was best ``lag`` trials ago: a good policy that notices reversals late."""

    def policy(observation, history):
        if len(history) < lag:
            return history[-1]["info"][LATENT]["best_arm"] if history else 0
        return history[-lag]["info"][LATENT]["best_arm"]

    return policy


def test_surprise_rises_in_the_trials_after_a_reversal_not_at_the_hidden_change():
    before, after, at_reversal_rewarded, baseline_rewarded, just_before = [], [], [], [], []
    for seed in range(12):
        env = ReversalBanditEnv(trials_per_episode=None)
        records = play(env, lagged_oracle(10), 1000, seed=seed)
        surprise = np.array([r["info"][SURPRISE] for r in records])
        rewards = np.array([r["reward"] for r in records])
        for r in [k for k, rec in enumerate(records) if rec["info"][LATENT]["reversal"]]:
            before.append(surprise[r - 20 : r].mean())
            just_before.append(surprise[r - 1])
            # Trial r is the first one played under the new probabilities: trials r..r+4
            # are the 1st-5th trials after the hidden change.
            after.append(surprise[r : r + 5].mean())
            if rewards[r] == 1.0:
                at_reversal_rewarded.append(surprise[r])
            baseline_rewarded.extend(surprise[r - 20 : r][rewards[r - 20 : r] == 1.0])
    before, after, just_before = np.mean(before), np.mean(after), np.mean(just_before)
    # Outcomes of the old best arm drop from 80 % to 20 % rewarded: the observer, which
    # expects ~80 %, is surprised on most of the next trials.
    assert after > 1.5 * before and after - before > 0.3, (before, after)
    # No anticipation: the trial before the hidden change looks like any other.
    assert just_before < before + 0.25
    # At the change itself the observer knows nothing yet: when the old arm still pays,
    # surprise is as low as on any rewarded trial before the change.
    assert np.mean(at_reversal_rewarded) == pytest.approx(np.mean(baseline_rewarded), abs=0.1)


def test_signals_are_recomputable_from_actions_and_rewards_alone():
    """No signal uses latent state: a fresh observer fed (arm, reward) reproduces them."""
    env = ReversalBanditEnv(trials_per_episode=None, observer_retention=0.85)
    records = play(env, random_policy(np.random.default_rng(7)), 600, seed=9)
    observer = OutcomeObserver(n_outcomes=2, prior=1.0, retention=0.85)
    for record in records:
        surprise, uncertainty = observer.observe(record["arm"], int(record["reward"]))
        assert record["info"][SURPRISE] == surprise
        assert record["info"][UNCERTAINTY] == uncertainty
    # Novelty is over the observation only: each of the 4 possible observations is new once.
    firsts = [r["info"][NOVELTY] for r in records if r["info"][NOVELTY] == 1.0]
    assert len(firsts) == 4


def test_a_plain_reset_continues_the_run_and_a_seeded_reset_restarts_it():
    actions = np.random.default_rng(3).integers(2, size=700).tolist()

    def run(trials_per_episode):
        env = ReversalBanditEnv(trials_per_episode=trials_per_episode)
        observation, _ = env.reset(seed=11)
        out, truncations = [], 0
        for arm in actions:
            observation, reward, _, truncated, info = env.step(arm)
            out.append((observation.tolist(), reward, info[LATENT], info[SURPRISE], info[NOVELTY]))
            if truncated:
                truncations += 1
                reset_observation, reset_info = env.reset()
                np.testing.assert_array_equal(reset_observation, observation)
                assert reset_info[T_MS] == 0.0 and reset_info[LATENT]["trial"] == info[LATENT]["trial"] + 1
        return out, truncations

    long_run, n_long = run(None)
    split_run, n_split = run(150)
    assert n_long == 0 and n_split == 4
    assert split_run == long_run

    env = ReversalBanditEnv()
    env.reset(seed=11)
    for arm in actions[:250]:
        env.step(arm)
    _, info = env.reset(seed=11)
    assert info[LATENT]["trial"] == 0 and info[NOVELTY] == 1.0
    for arm in actions[:5]:
        env.step(arm)
    _, info = env.reset(options={"new_run": True})
    assert info[LATENT]["trial"] == 0


def test_truncation_after_trials_per_episode_and_clock_per_trial():
    env = ReversalBanditEnv(trials_per_episode=30, dt_ms=250.0)
    env.reset(seed=0)
    for k in range(1, 31):
        _, _, terminated, truncated, info = env.step(0)
        assert info[T_MS] == pytest.approx(250.0 * k)
        assert truncated == (k == 30) and not terminated


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"reward_probabilities": (0.8,)}, "reward_probabilities"),
        ({"reward_probabilities": (0.5, 0.5)}, "reward_probabilities"),
        ({"reward_probabilities": (1.2, 0.2)}, "reward_probabilities"),
        ({"reward_probabilities": 0.8}, "reward_probabilities"),
        ({"reversal_every_trials": 0}, "reversal_every_trials"),
        ({"reversal_hazard": 0.1}, "reversal_hazard"),
        ({"reversal_every_trials": None, "reversal_hazard": 1.5}, "reversal_hazard"),
        ({"trials_per_episode": 0}, "trials_per_episode"),
        ({"observation_mode": "full"}, "observation_mode"),
        ({"observer_retention": 0.0}, "observer_retention"),
        ({"dt_ms": -1.0}, "dt_ms"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        ReversalBanditEnv(**kwargs)
