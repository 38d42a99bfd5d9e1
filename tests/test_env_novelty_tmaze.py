"""NoveltyTMaze-v0: the novel cue is really new, the reward rule holds, novelty-seeking pays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neuromod_gym.envs.novelty_tmaze import NoveltyTMazeEnv
from neuromod_gym.signals import validate_info


def run(env: NoveltyTMazeEnv, n_trials: int, policy, seed: int = 0) -> list[dict]:
    """policy(observation, memory) -> arm; memory[...] is the agent's own, filled by learn()."""
    rows = []
    for trial in range(n_trials):
        observation, choice_info = env.reset(seed=seed if trial == 0 else None)
        validate_info(choice_info)
        arm = policy(observation)
        _, reward, terminated, truncated, info = env.step(arm)
        validate_info(info)
        assert terminated and not truncated
        if hasattr(policy, "learn"):
            policy.learn(observation, arm, reward)
        rows.append({**info["latent"], "obs": observation, "arm": arm, "reward": reward, "choice_info": choice_info, "info": info})
    return rows


def split(observation: np.ndarray) -> tuple[bytes, bytes]:
    half = len(observation) // 2
    return observation[:half].tobytes(), observation[half:].tobytes()


class RandomAgent:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation):
        return int(self.rng.integers(2))


class ValueLearner:
    """Greedy delta-rule values per cue pattern, no novelty bonus (ties broken at random).

    With ``novelty_bonus`` > 0 it adds bonus / sqrt(1 + visits) from its OWN visit counts:
    the count-based novelty the task reports, computed by the agent itself.
    """

    def __init__(self, seed: int, learning_rate: float = 0.3, novelty_bonus: float = 0.0):
        self.rng = np.random.default_rng(seed)
        self.values: dict[bytes, float] = {}
        self.visits: dict[bytes, int] = {}
        self.learning_rate = learning_rate
        self.novelty_bonus = novelty_bonus

    def score(self, cue: bytes) -> float:
        return self.values.get(cue, 0.0) + self.novelty_bonus / math.sqrt(1 + self.visits.get(cue, 0))

    def __call__(self, observation):
        left, right = (self.score(cue) for cue in split(observation))
        return int(self.rng.integers(2)) if left == right else int(right > left)

    def learn(self, observation, arm, reward):
        cue = split(observation)[arm]
        self.values[cue] = self.values.get(cue, 0.0) + self.learning_rate * (reward - self.values.get(cue, 0.0))
        self.visits[cue] = self.visits.get(cue, 0) + 1


def test_the_novel_arms_cue_is_new_and_the_familiar_one_is_the_previous_blocks():
    env = NoveltyTMazeEnv(trials_per_block=10)
    rows = run(env, 200, RandomAgent(0))
    seen: set[bytes] = set()
    for row in rows:
        cues = split(row["obs"])
        novel, familiar = cues[row["novel_arm"]], cues[1 - row["novel_arm"]]
        assert novel != familiar
        if row["trial_in_block"] == 0:
            assert novel not in seen  # never shown before in this run
            if row["block"] > 0:
                assert familiar in seen  # shown in the previous block (as its novel cue)
                assert row["familiar_cue"] == row["novel_cue"] - 1
        seen.update(cues)
    # Within a block the same two cues appear; the novel cue's side is a fair coin.
    assert np.mean([row["novel_arm"] for row in rows]) == pytest.approx(0.5, abs=0.08)
    by_block: dict[int, set] = {}
    for row in rows:
        by_block.setdefault(row["block"], set()).update(split(row["obs"]))
    assert all(len(cues) == 2 for cues in by_block.values())


def test_the_reward_rule_holds_empirically():
    env = NoveltyTMazeEnv(p_reward_novel=0.75, p_reward_familiar=0.25)
    rows = run(env, 6000, RandomAgent(1))
    novel_rewards = [row["reward"] for row in rows if row["arm"] == row["novel_arm"]]
    familiar_rewards = [row["reward"] for row in rows if row["arm"] != row["novel_arm"]]
    assert np.mean(novel_rewards) == pytest.approx(0.75, abs=0.025)
    assert np.mean(familiar_rewards) == pytest.approx(0.25, abs=0.025)
    # The latent baits are the truth the reward follows, and they are independent.
    for row in rows:
        assert row["reward"] == float(row["left_baited"] if row["arm"] == 0 else row["right_baited"])
    both = np.mean([row["left_baited"] and row["right_baited"] for row in rows])
    assert both == pytest.approx(0.75 * 0.25, abs=0.02)


def test_novelty_is_one_for_a_never_visited_cue_and_falls_with_visits():
    env = NoveltyTMazeEnv(trials_per_block=50)
    visits: dict[bytes, int] = {}
    for trial in range(120):
        observation, choice_info = env.reset(seed=3 if trial == 0 else None)
        cues = split(observation)
        # At the choice point: the more novel of the two cues in view.
        assert choice_info["novelty"] == pytest.approx(max(1 / math.sqrt(1 + visits.get(c, 0)) for c in cues))
        arm = trial % 2 if trial < 100 else 0
        _, _, _, _, info = env.step(arm)
        expected = 1 / math.sqrt(1 + visits.get(cues[arm], 0))
        assert info["novelty"] == pytest.approx(expected)
        if visits.get(cues[arm], 0) == 0:
            assert info["novelty"] == 1.0
        visits[cues[arm]] = visits.get(cues[arm], 0) + 1
    # At a block start the choice point signals something new.
    _, info = env.reset(seed=3)
    assert info["novelty"] == 1.0


def test_novelty_seeking_pays_off_and_pure_value_learning_is_misled():
    """At each block start the familiar cue carries the value it earned in its own block;
    a greedy value learner keeps choosing it, a novelty-seeking one switches at once."""
    greedy, seeker = [], []
    for seed in range(5):
        greedy += run(NoveltyTMazeEnv(), 400, ValueLearner(seed), seed=seed)
        seeker += run(NoveltyTMazeEnv(), 400, ValueLearner(seed, novelty_bonus=2.0), seed=seed)

    def later_blocks(rows, key):
        return float(np.mean([row[key] for row in rows if row["block"] >= 1]))

    for rows in (greedy, seeker):
        for row in rows:
            row["chose_novel"] = float(row["arm"] == row["novel_arm"])
    assert later_blocks(seeker, "chose_novel") > 0.85
    assert later_blocks(greedy, "chose_novel") < 0.5
    assert later_blocks(seeker, "reward") > later_blocks(greedy, "reward") + 0.2
    first_trials = [row["chose_novel"] for row in seeker if row["block"] >= 1 and row["trial_in_block"] < 3]
    assert np.mean(first_trials) > 0.9


def test_surprise_rises_after_a_block_change_when_the_old_cue_stops_paying():
    # A perseverating agent: it keeps choosing block 0's novel cue, which pays in block 0
    # and stops paying when block 1 makes it the familiar cue.
    env = NoveltyTMazeEnv(trials_per_block=30, p_reward_novel=1.0, p_reward_familiar=0.0)
    habit = env.cue_pattern(1).tobytes()  # block 0's novel cue (cue 0 is the home cue)

    def perseverate(observation):
        return split(observation).index(habit)

    rows = run(env, 36, perseverate)
    assert [row["reward"] for row in rows] == [1.0] * 30 + [0.0] * 6
    assert max(row["info"]["surprise"] for row in rows[20:30]) < 0.1  # reward expected and received
    assert rows[30]["choice_info"]["surprise"] == 0.0  # the block change itself is not surprising
    assert rows[30]["info"]["surprise"] > 2.0  # the cue that always paid no longer does
    # Forgetting lets the observer adapt, so surprise falls again over the next visits.
    assert rows[35]["info"]["surprise"] < rows[30]["info"]["surprise"] / 2
    # Expected uncertainty is highest while the observer is unsure whether the cue pays.
    assert rows[0]["info"]["uncertainty"] == pytest.approx(math.log(2))
    assert rows[29]["info"]["uncertainty"] < 0.5 * math.log(2)


def test_runs_persist_across_plain_resets_and_restart_on_seeded_reset():
    env = NoveltyTMazeEnv(trials_per_block=3)
    for k in range(7):
        _, info = env.reset(seed=5 if k == 0 else None)
        assert info["latent"]["trial"] == k and info["latent"]["block"] == k // 3
        env.step(0)
    observation, info = env.reset(seed=5)
    assert info["latent"]["trial"] == 0 and info["novelty"] == 1.0


def test_the_codebook_is_fixed_and_refuses_to_run_out():
    a, b = NoveltyTMazeEnv(cue_dim=4), NoveltyTMazeEnv(cue_dim=4)
    patterns = [a.cue_pattern(k).tobytes() for k in range(16)]
    assert patterns == [b.cue_pattern(k).tobytes() for k in range(16)]
    assert len(set(patterns)) == 16
    with pytest.raises(RuntimeError, match="cue_dim"):
        a.cue_pattern(16)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"trials_per_block": 0}, "trials_per_block"),
        ({"p_reward_novel": 1.5}, "p_reward_novel"),
        ({"p_reward_familiar": -0.1}, "p_reward_familiar"),
        ({"reward": float("inf")}, "reward"),
        ({"cue_dim": 2}, "cue_dim"),
        ({"dt_ms": 0}, "dt_ms"),
        ({"observer_retention": 1.5}, "observer_retention"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        NoveltyTMazeEnv(**kwargs)
