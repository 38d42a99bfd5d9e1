"""The signal contract, the ideal-observer estimators and NeuromodulatorySignals on standard envs."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import gymnasium as gym
import numpy as np
import pytest

from neuromod_gym.signals import (
    CONTRACT_KEYS,
    EVENT_EPISODE_END,
    EVENT_REWARD,
    EVENTS,
    LATENT,
    NOVELTY,
    SURPRISE,
    T_MS,
    UNCERTAINTY,
    NeuromodulatorySignals,
    ObservationDiscretizer,
    OutcomeObserver,
    VisitNovelty,
    validate_info,
)


def good_info(**overrides):
    info = {NOVELTY: 0.5, SURPRISE: 0.1, UNCERTAINTY: 0.7, T_MS: 20.0, EVENTS: ("cue",), LATENT: {"best_arm": 1}}
    info.update(overrides)
    return info


# --- validate_info -------------------------------------------------------------------------


def test_validate_info_accepts_a_complete_info():
    validate_info(good_info())


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({NOVELTY: 1.5}, "novelty"),
        ({NOVELTY: -0.1}, "novelty"),
        ({SURPRISE: -1.0}, "surprise"),
        ({SURPRISE: float("nan")}, "surprise"),
        ({UNCERTAINTY: float("inf")}, "uncertainty"),
        ({T_MS: -5.0}, "t_ms"),
        ({NOVELTY: "high"}, "novelty"),
        ({NOVELTY: True}, "novelty"),
        ({EVENTS: ["cue"]}, "events"),
        ({EVENTS: (1,)}, "events"),
        ({LATENT: None}, "latent"),
        ({LATENT: {"best_arm": [1, 2]}}, "latent"),
        ({LATENT: {1: 1}}, "latent"),
    ],
)
def test_validate_info_names_the_bad_value(overrides, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_info(good_info(**overrides))


@pytest.mark.parametrize("key", CONTRACT_KEYS)
def test_validate_info_names_a_missing_key(key):
    info = good_info()
    del info[key]
    with pytest.raises(ValueError, match=key):
        validate_info(info)


# --- estimators --------------------------------------------------------------------------


def test_visit_novelty_is_one_for_new_keys_and_falls_with_visits():
    novelty = VisitNovelty()
    values = [novelty.visit("A") for _ in range(5)]
    assert values[0] == 1.0
    assert all(later < earlier for earlier, later in zip(values, values[1:]))
    assert novelty.peek("B") == 1.0
    assert values[3] == pytest.approx(1 / math.sqrt(4))


def test_outcome_observer_known_outcomes_matches_dirichlet_predictive():
    observer = OutcomeObserver(n_outcomes=2, prior=1.0)
    for outcome in [1, 1, 1, 0]:
        observer.observe("arm0", outcome)
    # counts: 1 x outcome 0, 3 x outcome 1; predictive (n + 1) / (4 + 2)
    assert observer.probability("arm0", 1) == pytest.approx(4 / 6)
    surprise, uncertainty = observer.observe("arm0", 0)
    assert surprise == pytest.approx(-math.log(2 / 6))
    assert uncertainty == pytest.approx(-(4 / 6) * math.log(4 / 6) - (2 / 6) * math.log(2 / 6))


def test_outcome_observer_rare_outcomes_are_more_surprising():
    rng = np.random.default_rng(0)
    observer = OutcomeObserver(n_outcomes=2)
    surprises = defaultdict(list)
    for _ in range(2000):
        outcome = int(rng.random() < 0.1)
        surprise, _ = observer.observe("context", outcome)
        surprises[outcome].append(surprise)
    assert np.mean(surprises[1][20:]) > 3 * np.mean(surprises[0][200:])


def test_outcome_observer_uncertainty_is_higher_for_less_predictable_contexts():
    rng = np.random.default_rng(1)
    observer = OutcomeObserver(n_outcomes=2)
    for _ in range(500):
        observer.observe("valid_90", int(rng.random() < 0.9))
        observer.observe("valid_60", int(rng.random() < 0.6))
    assert observer.uncertainty("valid_60") > observer.uncertainty("valid_90")
    assert observer.uncertainty("never_seen") == pytest.approx(math.log(2))


def test_outcome_observer_with_forgetting_becomes_surprised_again_after_a_change():
    stationary, forgetful = OutcomeObserver(n_outcomes=2), OutcomeObserver(n_outcomes=2, retention=0.9)
    for _ in range(300):
        stationary.observe("c", 1)
        forgetful.observe("c", 1)
    after_change = [(stationary.observe("c", 0)[0], forgetful.observe("c", 0)[0]) for _ in range(10)]
    # The forgetful observer adapts: its surprise at the new outcome falls within a few trials.
    assert after_change[-1][1] < 0.5 * after_change[0][1]
    # The stationary observer, with 300 trials of evidence, stays surprised far longer.
    assert after_change[-1][0] > 3 * after_change[-1][1]


def test_outcome_observer_open_outcome_set_uses_crp_predictive():
    observer = OutcomeObserver(n_outcomes=None, prior=1.0)
    assert observer.observe("c", "x") == (pytest.approx(0.0), pytest.approx(0.0))
    surprise, _ = observer.observe("c", "y")  # unseen: prior / (1 + prior)
    assert surprise == pytest.approx(math.log(2))
    assert observer.probability("c", "x") == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n_outcomes": 0}, "n_outcomes"),
        ({"prior": 0.0}, "prior"),
        ({"prior": float("nan")}, "prior"),
        ({"retention": 0.0}, "retention"),
        ({"retention": 1.5}, "retention"),
    ],
)
def test_outcome_observer_refuses_bad_parameters(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        OutcomeObserver(**kwargs)


def test_outcome_observer_refuses_outcomes_outside_a_known_set():
    with pytest.raises(ValueError, match="outcome"):
        OutcomeObserver(n_outcomes=2).observe("c", 2)


def test_discretizer_bins_bounded_and_squashes_unbounded_dimensions():
    space = gym.spaces.Box(low=np.array([0.0, -np.inf], dtype=np.float32), high=np.array([1.0, np.inf], dtype=np.float32))
    discretize = ObservationDiscretizer(space, bins=4)
    assert discretize(np.array([0.0, 0.0], dtype=np.float32)) == (0, 2)
    assert discretize(np.array([0.99, -1e9], dtype=np.float32)) == (3, 0)
    assert discretize(np.array([0.3, 1e9], dtype=np.float32)) == (1, 3)
    with pytest.raises(ValueError, match="shape"):
        discretize(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        discretize(np.array([np.nan, 0.0], dtype=np.float32))
    with pytest.raises(ValueError, match="observation space"):
        ObservationDiscretizer(gym.spaces.Dict({"a": gym.spaces.Discrete(2)}))


# --- NeuromodulatorySignals on standard Gymnasium envs -----------------------------------

STANDARD_ENVS = ["CartPole-v1", "FrozenLake-v1", "MountainCar-v0"]


def random_run(env: gym.Env, n_steps: int, seed: int = 0) -> list[dict]:
    env.action_space.seed(seed)
    _, info = env.reset(seed=seed)
    infos = [info]
    for _ in range(n_steps):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        validate_info(info)
        infos.append(info)
        if terminated or truncated:
            _, info = env.reset()
            infos.append(info)
    return infos


@pytest.mark.parametrize("env_id", STANDARD_ENVS)
def test_wrapper_adds_every_contract_key(env_id):
    env = NeuromodulatorySignals(gym.make(env_id))
    infos = random_run(env, 300)
    for info in infos:
        validate_info(info)
    assert infos[-1][T_MS] >= 0.0
    assert any(EVENT_EPISODE_END in info[EVENTS] for info in infos) or env_id == "MountainCar-v0"


@pytest.mark.parametrize("env_id", STANDARD_ENVS)
def test_novelty_falls_with_repeated_visits_to_the_start_state(env_id):
    env = NeuromodulatorySignals(gym.make(env_id))
    env.reset(seed=0)
    start_novelty = []
    for _ in range(30):
        _, info = env.reset()  # plain reset: memory kept
        start_novelty.append(info[NOVELTY])
    assert start_novelty[-1] < start_novelty[0]
    assert np.mean(start_novelty[-10:]) < 0.5
    _, info = env.reset(seed=1)  # seeded reset: memory cleared
    assert info[NOVELTY] == 1.0


@pytest.mark.parametrize(
    "env_id, rare_below, min_gap_nats",
    # FrozenLake's slippery moves make every outcome at least 1/3 likely: "rare" is 1/3 there.
    [("CartPole-v1", 0.1, 1.0), ("FrozenLake-v1", 0.35, 0.4), ("MountainCar-v0", 0.1, 1.0)],
)
def test_rare_outcomes_are_more_surprising_than_common_ones(env_id, rare_below, min_gap_nats):
    """Score each late step by how often its outcome followed its context over the whole run."""
    env = NeuromodulatorySignals(gym.make(env_id))
    discretize = ObservationDiscretizer(env.observation_space)
    env.action_space.seed(0)
    observation, _ = env.reset(seed=0)
    records = []
    for _ in range(20_000):
        action = env.action_space.sample()
        next_observation, reward, terminated, truncated, info = env.step(action)
        context = (discretize(observation), int(action))
        outcome = (discretize(next_observation), round(float(reward), 3), bool(terminated))
        records.append((context, outcome, info[SURPRISE]))
        observation = next_observation
        if terminated or truncated:
            observation, _ = env.reset()
    context_counts = Counter(context for context, _, _ in records)
    pair_counts = Counter((context, outcome) for context, outcome, _ in records)
    late = records[len(records) // 2 :]
    frequency = [pair_counts[(c, o)] / context_counts[c] for c, o, _ in late]
    surprise = [s for _, _, s in late]
    common = [s for f, s in zip(frequency, surprise) if f > 0.5]
    rare = [s for f, s in zip(frequency, surprise) if f < rare_below]
    assert len(common) > 50 and len(rare) > 10
    assert np.mean(rare) > np.mean(common) + min_gap_nats


def test_frozenlake_slip_into_the_hole_side_is_more_surprising_than_staying():
    # From the start (state 0), action Left keeps the agent in place with p = 2/3 (left or up
    # into the wall) and moves it down with p = 1/3 (slippery ice).
    env = NeuromodulatorySignals(gym.make("FrozenLake-v1", is_slippery=True))
    env.reset(seed=3)
    surprise_by_outcome = defaultdict(list)
    for _ in range(400):
        observation, _ = env.reset()
        next_observation, _, _, _, info = env.step(0)
        surprise_by_outcome[int(next_observation)].append(info[SURPRISE])
    assert np.mean(surprise_by_outcome[4][5:]) > np.mean(surprise_by_outcome[0][5:]) + 0.4
    assert np.mean(surprise_by_outcome[4][5:]) == pytest.approx(math.log(3), abs=0.25)


def test_plain_reset_keeps_memory_and_seeded_reset_clears_it():
    env = NeuromodulatorySignals(gym.make("FrozenLake-v1"))
    env.reset(seed=0)
    env.step(1)
    _, info = env.reset()
    assert info[NOVELTY] < 1.0
    _, info = env.reset(seed=0)
    assert info[NOVELTY] == 1.0


def test_state_round_trips_through_json_and_continues_identically():
    original = NeuromodulatorySignals(gym.make("CartPole-v1"))
    random_run(original, 500, seed=4)
    saved = json.loads(json.dumps(original.state_dict()))
    restored = NeuromodulatorySignals(gym.make("CartPole-v1"))
    restored.load_state_dict(saved)
    assert restored.novelty_memory.visits == original.novelty_memory.visits
    assert restored.outcome_memory.counts == original.outcome_memory.counts
    # The same continuation (plain resets keep the memory) yields the same signals.
    for env in (original, restored):
        env.reset(seed=None)
    a = [info[SURPRISE] for info in random_run_without_seed(original, 200)]
    b = [info[SURPRISE] for info in random_run_without_seed(restored, 200)]
    assert a == b


def random_run_without_seed(env, n_steps):
    env.unwrapped.reset(seed=99)  # same physical start, wrapper memory untouched
    env.action_space.seed(5)
    observation, info = env.reset()
    infos = []
    for _ in range(n_steps):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        infos.append(info)
        if terminated or truncated:
            break
    return infos


def test_load_state_refuses_other_formats():
    env = NeuromodulatorySignals(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="format_version"):
        env.load_state_dict({"format_version": 999, "novelty": {"visits": []}, "outcomes": {"counts": []}})
    with pytest.raises(ValueError, match="format_version"):
        env.load_state_dict([1, 2, 3])
    with pytest.raises(ValueError, match="count"):
        env.load_state_dict({"format_version": 1, "novelty": {"visits": [[[1, 2], -3]]}, "outcomes": {"counts": []}})


class _NaNRewardEnv(gym.Env):
    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 1, float("nan"), False, False, {}


def test_wrapper_refuses_a_non_finite_reward():
    env = NeuromodulatorySignals(_NaNRewardEnv())
    env.reset(seed=0)
    with pytest.raises(ValueError, match="reward"):
        env.step(0)


def test_wrapper_events_mark_reward_and_episode_end():
    env = NeuromodulatorySignals(gym.make("FrozenLake-v1", is_slippery=False))
    env.reset(seed=0)
    info = None
    for action in [1, 1, 2, 2, 1, 2]:  # down, down, right, right, down, right: reaches the goal
        _, reward, terminated, _, info = env.step(action)
    assert reward == 1.0 and terminated
    assert EVENT_REWARD in info[EVENTS] and EVENT_EPISODE_END in info[EVENTS]


def test_wrapper_passes_through_keys_the_env_already_provides():
    class OwnSignals(_NaNRewardEnv):
        def step(self, action):
            return 1, 0.0, False, False, {NOVELTY: 0.25, LATENT: {"secret": 1}}

    env = NeuromodulatorySignals(OwnSignals())
    env.reset(seed=0)
    _, _, _, _, info = env.step(0)
    assert info[NOVELTY] == 0.25 and info[LATENT] == {"secret": 1}
    validate_info(info)


def test_wrapper_uses_the_env_dt_ms_and_refuses_a_bad_one():
    env = NeuromodulatorySignals(gym.make("CartPole-v1"), dt_ms=20.0)
    env.reset(seed=0)
    _, _, _, _, info = env.step(0)
    assert info[T_MS] == 20.0
    with pytest.raises(ValueError, match="dt_ms"):
        NeuromodulatorySignals(gym.make("CartPole-v1"), dt_ms=-1.0)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_wrapper_keys_batch_in_vector_envs(mode):
    envs = gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode=mode, wrappers=[NeuromodulatorySignals])
    try:
        _, infos = envs.reset(seed=0)
        for _ in range(20):
            _, _, _, _, infos = envs.step(envs.action_space.sample())
        for key in (NOVELTY, SURPRISE, UNCERTAINTY, T_MS):
            assert infos[key].shape == (3,) and infos[key].dtype == np.float64
        assert infos[EVENTS].dtype == object
    finally:
        envs.close()
