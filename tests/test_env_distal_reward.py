"""DistalReward-v0: the reward really is distal, specific to one pairing, and interleaved with other trials."""

from __future__ import annotations

from collections import Counter

import gymnasium as gym
import numpy as np
import pytest

import neuromod_gym  # noqa: F401  (registers the tasks)
from neuromod_gym.envs.distal_reward import DistalRewardEnv
from neuromod_gym.signals import LATENT, NOVELTY, SURPRISE, T_MS, UNCERTAINTY, OutcomeObserver, VisitNovelty


def play(env: DistalRewardEnv, policy, n_steps: int, seed: int | None = 0):
    """Run n_steps steps (resetting on truncation). Records carry a run-level step index."""
    observation, info = env.reset(seed=seed)
    records = []
    for step_index in range(1, n_steps + 1):
        action = policy(observation, info)
        previous_observation = observation
        observation, reward, terminated, truncated, info = env.step(action)
        records.append(
            {
                "t": step_index,  # run-level step count after this step
                "action": action,
                "shown": previous_observation,
                "obs": observation,
                "reward": reward,
                "info": info,
                "truncated": truncated,
            }
        )
        assert not terminated
        if truncated:
            observation, info = env.reset()
    return records


def random_policy(seed: int, n: int = 2):
    rng = np.random.default_rng(seed)
    return lambda observation, info: int(rng.integers(n))


def check_reward_timing(records, dt_ms, low_ms, high_ms):
    """Every rewarded pairing pays exactly once inside [low, high] ms later; nothing else pays."""
    due = Counter()
    delays = []
    for record in records:
        latent = record["info"][LATENT]
        if latent["rewarded_pairing"]:
            delay = latent["scheduled_delay_ms"]
            assert low_ms <= delay <= high_ms
            delays.append(delay)
            due[record["t"] - 1 + round(delay / dt_ms)] += 1
    paid = Counter({r["t"]: int(round(r["reward"])) for r in records if r["reward"] > 0})
    horizon = records[-1]["t"]
    assert paid == Counter({t: n for t, n in due.items() if t <= horizon})
    return np.array(delays)


def test_reward_arrives_inside_the_delay_window_after_the_rewarded_pairing_and_never_otherwise():
    env = DistalRewardEnv()
    records = play(env, random_policy(0), 20000)
    delays = check_reward_timing(records, env.dt_ms, 1000.0, 3000.0)
    assert len(delays) > 400
    # The delay is drawn across the whole window (every whole step from 10 to 30 occurs).
    assert set(np.round(delays).astype(int).tolist()) == set(range(1000, 3001, 100))
    # Only the rewarded (cue, response) pairing ever schedules a reward.
    for record in records:
        latent = record["info"][LATENT]
        scheduled = latent["scheduled_delay_ms"] > 0
        assert scheduled == (latent["cue"] == latent["rewarded_cue"] and latent["response"] == latent["rewarded_response"])


def test_long_delay_control_keeps_the_same_structure_with_8_to_10_s():
    env = DistalRewardEnv(reward_delay_ms=(8000.0, 10000.0))
    records = play(env, random_policy(1), 8000, seed=2)
    delays = check_reward_timing(records, env.dt_ms, 8000.0, 10000.0)
    assert delays.min() >= 8000 and delays.max() <= 10000 and len(delays) > 100


def test_other_trials_happen_between_a_pairing_and_its_reward():
    env = DistalRewardEnv()
    records = play(env, random_policy(3), 6000, seed=4)
    trial_at = {r["t"]: r["info"][LATENT]["trial"] for r in records}
    interleaved = []
    for record in records:
        latent = record["info"][LATENT]
        if latent["rewarded_pairing"]:
            arrival = record["t"] - 1 + round(latent["scheduled_delay_ms"] / env.dt_ms)
            if arrival in trial_at:
                interleaved.append(trial_at[arrival] - latent["trial"])
    # 1-3 s at 2-4 steps (200-400 ms) per trial: 2.5 to 15 trials in between, ~6.7 on average.
    assert min(interleaved) >= 2 and 5 < np.mean(interleaved) < 8.5
    # The reward is uninformative about what is on screen when it arrives.
    cues_at_reward = [r["info"][LATENT]["cue"] for r in records if r["reward"] > 0]
    rewarded_cue = records[0]["info"][LATENT]["rewarded_cue"]
    assert np.mean([c == rewarded_cue for c in cues_at_reward]) < 0.4


def test_trials_are_cheap_and_blank_steps_separate_the_cues():
    env = DistalRewardEnv()
    records = play(env, random_policy(5), 3000, seed=6)
    trials = records[-1]["info"][LATENT]["trial"]
    assert 2.7 < len(records) / trials < 3.3  # 1 cue step + 1-3 blank steps
    blank_run = 0
    for record in records:
        shown = record["shown"]
        latent = record["info"][LATENT]
        if shown.any():
            assert shown.sum() == 1.0 and latent["cue"] == int(np.argmax(shown))
            assert "response" in record["info"]["events"] and latent["response"] == record["action"]
            if blank_run:
                assert 1 <= blank_run <= 3
            blank_run = 0
        else:
            assert latent["cue"] == -1 and latent["response"] == -1 and "response" not in record["info"]["events"]
            blank_run += 1
        assert ("cue" in record["info"]["events"]) == bool(record["obs"].any())
        assert ("reward" in record["info"]["events"]) == (record["reward"] > 0)
    # Every cue occurs.
    assert {r["info"][LATENT]["cue"] for r in records} == {-1, 0, 1, 2, 3}


def test_responding_correctly_to_the_rewarded_cue_is_what_pays():
    def run(policy_kind):
        env = DistalRewardEnv(rewarded_cue=2, rewarded_response=1)

        def policy(observation, info):
            if policy_kind == "correct":
                return 1 if observation[2] == 1.0 else 0
            if policy_kind == "cue_blind":
                return 0
            return 1 if observation[2] == 0.0 else 0  # the right response everywhere but on cue 2

        records = play(env, policy, 6000, seed=7)
        trials = records[-1]["info"][LATENT]["trial"]
        return sum(r["reward"] for r in records) / trials

    correct, blind, wrong_cue = run("correct"), run("cue_blind"), run("wrong_cue")
    assert 0.2 < correct < 0.3  # one trial in 4 shows cue 2, every one of them paid
    assert blind == 0.0 and wrong_cue == 0.0


def test_rewarded_pairing_is_drawn_per_run_unless_fixed():
    pairings = {
        (info[LATENT]["rewarded_cue"], info[LATENT]["rewarded_response"])
        for info in (DistalRewardEnv().reset(seed=s)[1] for s in range(40))
    }
    assert len(pairings) == 8
    env = DistalRewardEnv(rewarded_cue=3, rewarded_response=0)
    for s in range(5):
        latent = env.reset(seed=s)[1][LATENT]
        assert (latent["rewarded_cue"], latent["rewarded_response"]) == (3, 0)


def test_pending_rewards_survive_a_plain_reset_but_not_a_new_run():
    actions = np.random.default_rng(8).integers(2, size=3000).tolist()

    def run(trials_per_episode):
        env = DistalRewardEnv(trials_per_episode=trials_per_episode, rewarded_cue=0, rewarded_response=0)
        observation, _ = env.reset(seed=9)
        out, truncations, pending_at_cut = [], 0, 0
        for action in actions:
            observation, reward, _, truncated, info = env.step(action)
            out.append((observation.tolist(), reward, info[LATENT], info[SURPRISE], info[NOVELTY]))
            if truncated:
                truncations += 1
                pending_at_cut += info[LATENT]["pending_rewards"]
                again, reset_info = env.reset()
                np.testing.assert_array_equal(again, observation)
                assert reset_info[T_MS] == 0.0
        return out, truncations, pending_at_cut

    long_run, n_long, _ = run(None)
    split_run, n_split, pending_at_cut = run(50)
    assert n_long == 0 and n_split >= 15 and pending_at_cut > 0
    assert split_run == long_run

    env = DistalRewardEnv(rewarded_cue=0, rewarded_response=0)
    env.reset(seed=1)
    while env.step(0)[4][LATENT]["pending_rewards"] == 0:
        pass
    _, info = env.reset(seed=1)
    assert info[LATENT]["pending_rewards"] == 0 and info[LATENT]["trial"] == 0


def test_signals_are_recomputable_from_observations_and_rewards_alone():
    env = DistalRewardEnv(observer_retention=0.97)
    observation, info = env.reset(seed=10)
    novelty, observer = VisitNovelty(), OutcomeObserver(n_outcomes=2, prior=1.0, retention=0.97)
    assert info[NOVELTY] == novelty.visit(observation.tobytes())
    rng = np.random.default_rng(0)
    rewards, surprise_by_outcome = 0, {True: [], False: []}
    for _ in range(3000):
        observation, reward, _, truncated, info = env.step(int(rng.integers(2)))
        surprise, uncertainty = observer.observe("step", int(reward > 0))
        assert info[SURPRISE] == surprise and info[UNCERTAINTY] == uncertainty
        assert info[NOVELTY] == novelty.visit(observation.tobytes())
        if truncated:
            # A plain reset resumes at the same moment: the observation is not re-counted.
            observation, info = env.reset()
            assert info[NOVELTY] == novelty.peek(observation.tobytes())
        rewards += reward > 0
        surprise_by_outcome[bool(reward > 0)].append(info[SURPRISE])
    assert rewards > 50
    # Rewards are the rare outcome, so they are the surprising one.
    assert np.mean(surprise_by_outcome[True]) > 5 * np.mean(surprise_by_outcome[False])


def test_registered_defaults_match_the_issue():
    env = gym.make("neuromod_gym/DistalReward-v0").unwrapped
    assert env.reward_delay_ms == (1000.0, 3000.0) and 50.0 <= env.dt_ms <= 100.0
    assert env.n_cues >= 2 and env.n_responses >= 2


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_cues": 0}, "n_cues"),
        ({"n_responses": 1}, "n_responses"),
        ({"reward_delay_ms": (3000.0, 1000.0)}, "reward_delay_ms"),
        ({"reward_delay_ms": (0.0, 0.0)}, "reward_delay_ms"),
        ({"reward_delay_ms": (1010.0, 1090.0)}, "reward_delay_ms"),
        ({"reward_delay_ms": 1000.0}, "reward_delay_ms"),
        ({"inter_trial_interval_ms": (-100.0, 100.0)}, "inter_trial_interval_ms"),
        ({"dt_ms": 0.0}, "dt_ms"),
        ({"rewarded_cue": 4}, "rewarded_cue"),
        ({"rewarded_response": 2}, "rewarded_response"),
        ({"reward_size": 0.0}, "reward_size"),
        ({"trials_per_episode": 0}, "trials_per_episode"),
        ({"observer_retention": 1.5}, "observer_retention"),
        ({"render_mode": "rgb_array"}, "render_mode"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DistalRewardEnv(**kwargs)
