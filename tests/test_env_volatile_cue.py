"""VolatileCue-v0: cue validity, unsignalled context switches and the observer's signals are real."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuromod_gym.envs.volatile_cue import VolatileCueEnv
from neuromod_gym.signals import validate_info


def binary_entropy(p: float) -> float:
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def run(env: VolatileCueEnv, n_trials: int, policy, seed: int = 0) -> list[dict]:
    """One run of ``n_trials`` trials. policy(observation, state) -> action."""
    rows = []
    state: dict = {}
    for trial in range(n_trials):
        observation, cue_info = env.reset(seed=seed if trial == 0 else None)
        validate_info(cue_info)
        action = policy(observation, state)
        _, reward, terminated, truncated, info = env.step(action)
        validate_info(info)
        assert terminated and not truncated
        target = (1 if action == 1 else -1) if reward == env.correct_reward else (-1 if action == 1 else 1)
        state["last"] = (observation, target)
        rows.append({**info["latent"], "obs": observation, "reward": reward, "cue_info": cue_info, "info": info, "target_side": target})
    return rows


def random_policy(rng):
    return lambda observation, state: int(rng.integers(2))


def delta_rule_policy(learning_rate: float = 0.15):
    """A two-line learner: weights on the cue pointers, trained on the revealed target."""
    weights = {}

    def policy(observation, state):
        w = weights.setdefault("w", np.zeros(observation.shape))
        if "last" in state:
            previous, target = state["last"]
            w += learning_rate * (target - w @ previous) * previous / len(previous)
        value = w @ observation
        return int(value > 0) if value != 0 else 1

    return policy


def test_the_valid_cue_predicts_the_target_with_validity_gamma():
    for gamma in (0.7, 0.9):
        env = VolatileCueEnv(cue_validity=gamma, trials_per_context=50)
        rows = run(env, 4000, random_policy(np.random.default_rng(0)))
        valid_agrees = np.mean([row["obs"][row["valid_cue"]] == row["target_side"] for row in rows])
        other_agrees = np.mean(
            [row["obs"][c] == row["target_side"] for row in rows for c in range(env.n_cues) if c != row["valid_cue"]]
        )
        assert valid_agrees == pytest.approx(gamma, abs=0.025)
        assert other_agrees == pytest.approx(0.5, abs=0.025)
        assert np.mean([row["cue_followed"] for row in rows]) == pytest.approx(gamma, abs=0.025)


def test_reward_is_given_for_naming_the_target_side():
    env = VolatileCueEnv()
    for row in run(env, 300, random_policy(np.random.default_rng(1))):
        # The latent target (0 = left, 1 = right) is the side the feedback reveals.
        assert row["target_side"] == (1 if row["target"] == 1 else -1)
        assert ("reward" in row["info"]["events"]) == (row["reward"] == 1.0)


def test_periodic_switches_change_the_valid_cue_on_schedule():
    env = VolatileCueEnv(trials_per_context=40)
    rows = run(env, 400, random_policy(np.random.default_rng(2)))
    switch_trials = [row["trial"] for row in rows if row["switched"]]
    assert switch_trials == list(range(40, 400, 40))
    for k in switch_trials:
        assert rows[k]["valid_cue"] != rows[k - 1]["valid_cue"]
        assert rows[k]["trials_since_switch"] == 0 and rows[k - 1]["trials_since_switch"] == 39
    for k in range(1, 400):
        if k not in switch_trials:
            assert rows[k]["valid_cue"] == rows[k - 1]["valid_cue"]
    # Every context occurs: all cues get their turn.
    assert {row["valid_cue"] for row in rows} == set(range(env.n_cues))


def test_hazard_switches_are_memoryless_with_the_configured_mean():
    env = VolatileCueEnv(trials_per_context=20, switch_mode="hazard")
    rows = run(env, 6000, random_policy(np.random.default_rng(3)))
    switched = np.array([row["switched"] for row in rows[1:]])
    assert switched.mean() == pytest.approx(1 / 20, abs=0.01)
    for k in np.flatnonzero(switched) + 1:
        assert rows[k]["valid_cue"] != rows[k - 1]["valid_cue"]


def surprise_by_trials_since_switch(env: VolatileCueEnv, n_trials: int, seeds) -> dict[int, float]:
    table: dict[int, list[float]] = {}
    for seed in seeds:
        for row in run(env, n_trials, random_policy(np.random.default_rng(seed)), seed=seed):
            if row["trial"] >= env.trials_per_context:  # skip the run's first context (no switch)
                table.setdefault(row["trials_since_switch"], []).append(row["info"]["surprise"])
    return {k: float(np.mean(v)) for k, v in table.items()}


def test_surprise_rises_in_the_trials_after_a_switch_not_at_it():
    env = VolatileCueEnv(cue_validity=0.85, trials_per_context=60)
    surprise = surprise_by_trials_since_switch(env, 600, range(10))
    baseline = np.mean([surprise[k] for k in range(40, 60)])
    # The last trials of the old context: the change has not happened yet.
    just_before = np.mean([surprise[k] for k in range(55, 60)])
    after = np.mean([surprise[k] for k in range(0, 5)])
    assert after > 1.4 * baseline
    assert just_before < 1.2 * baseline
    # ... and it falls back as the observer identifies the new valid cue.
    assert np.mean([surprise[k] for k in range(25, 40)]) < 1.15 * baseline
    # The cue onset of the first trial of a new context carries no surprise at all: the
    # change is hidden, only outcomes can reveal it.
    for row in run(env, 200, random_policy(np.random.default_rng(9))):
        assert row["cue_info"]["surprise"] == 0.0


def test_uncertainty_reports_the_expected_uncertainty_and_is_higher_for_lower_gamma():
    late = {}
    for gamma in (0.65, 0.9):
        env = VolatileCueEnv(cue_validity=gamma, trials_per_context=200)
        rows = run(env, 600, random_policy(np.random.default_rng(4)))
        values = [row["info"]["uncertainty"] for row in rows if row["trials_since_switch"] >= 100]
        late[gamma] = float(np.mean(values))
        # Once the context is known, uncertainty is about H(gamma): the observer has learned gamma.
        assert late[gamma] == pytest.approx(binary_entropy(gamma), abs=0.06)
        assert env.observer.expected_validity() == pytest.approx(gamma, abs=0.05)
        # The same value is reported at cue onset and at the response of a trial.
        for row in rows[:50]:
            assert row["cue_info"]["uncertainty"] == pytest.approx(row["info"]["uncertainty"])
    assert late[0.65] > late[0.9] + 0.2


def test_the_issue_5_recovery_criterion_is_meaningful_and_achievable():
    """Accuracy after a switch: an adaptive learner recovers to >= 80 % of its pre-switch
    level well within 30 trials, an agent that keeps following the old cue does not."""

    def recovery_trials(rows, period):
        correct = np.array([row["reward"] for row in rows])
        latencies = []
        for start in range(2 * period, len(rows), period):
            pre_level = correct[start - period // 2 : start].mean()
            window = 10
            latency = next(
                (k for k in range(0, period - window) if correct[start + k : start + k + window].mean() >= 0.8 * pre_level),
                period,
            )
            latencies.append(latency + window)
        return latencies

    period = 100
    learner, stale_cue_accuracy, pre_switch_accuracy = [], [], []
    for seed in range(4):
        env = VolatileCueEnv(trials_per_context=period)
        rows = run(env, 1000, delta_rule_policy(), seed=seed)
        learner += recovery_trials(rows, period)
        assert np.mean([row["reward"] for row in rows]) > 0.7
        for start in range(period, len(rows), period):
            old_cue = rows[start - 1]["valid_cue"]
            # An agent that does not relearn keeps following the cue that was valid before.
            stale_cue_accuracy += [rows[k]["obs"][old_cue] == rows[k]["target_side"] for k in range(start, start + 30)]
            pre_switch_accuracy += [rows[k]["obs"][old_cue] == rows[k]["target_side"] for k in range(start - 30, start)]
    assert np.median(learner) <= 30
    assert np.mean(pre_switch_accuracy) == pytest.approx(0.8, abs=0.04)
    assert np.mean(stale_cue_accuracy) == pytest.approx(0.5, abs=0.05)
    assert np.mean(stale_cue_accuracy) < 0.8 * np.mean(pre_switch_accuracy) - 0.1


def test_runs_persist_across_plain_resets_and_restart_on_seeded_reset():
    env = VolatileCueEnv(trials_per_context=5)
    contexts = []
    for k in range(12):
        _, info = env.reset(seed=11 if k == 0 else None)
        assert info["latent"]["trial"] == k
        contexts.append(info["latent"]["context"])
        env.step(0)
    assert len(set(contexts)) > 1
    _, info = env.reset(seed=11)
    assert info["latent"]["trial"] == 0 and info["latent"]["context"] == contexts[0]
    assert info["novelty"] == 1.0  # memories were cleared


def test_novelty_of_the_cue_display_falls_with_repeats():
    env = VolatileCueEnv(n_cues=2)
    seen: dict = {}
    for k in range(40):
        observation, info = env.reset(seed=0 if k == 0 else None)
        key = tuple(observation)
        assert info["novelty"] == pytest.approx(1 / math.sqrt(1 + seen.get(key, 0)))
        seen[key] = seen.get(key, 0) + 1
        env.step(1)
    assert len(seen) == 4


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_cues": 1}, "n_cues"),
        ({"cue_validity": 0.5}, "cue_validity"),
        ({"cue_validity": 1.2}, "cue_validity"),
        ({"trials_per_context": 1}, "trials_per_context"),
        ({"switch_mode": "sometimes"}, "switch_mode"),
        ({"dt_ms": -5}, "dt_ms"),
        ({"correct_reward": 0.0}, "error_reward"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        VolatileCueEnv(**kwargs)
