"""OpenFieldNavigation-v0: the arena, the goal, relocation, the observers and rendering are real."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import neuromod_gym  # noqa: F401  (registers the tasks)
from neuromod_gym.envs.open_field import OpenFieldNavigationEnv
from neuromod_gym.signals import validate_info

ENV_ID = "neuromod_gym/OpenFieldNavigation-v0"


def heading_towards(env: OpenFieldNavigationEnv, target) -> int:
    """The discrete heading closest to the direction from the agent to ``target``."""
    direction = np.asarray(target) - env._position
    angle = math.atan2(direction[1], direction[0]) % (2 * math.pi)
    return int(round(angle / (2 * math.pi / env.n_headings))) % env.n_headings


def run_trial(env: OpenFieldNavigationEnv, policy, seed=None):
    """Run one trial; returns (latency_ms, rewards, infos, positions)."""
    _, info = env.reset(seed=seed)
    infos, rewards, positions = [info], [], [env._position.copy()]
    while True:
        _, reward, terminated, truncated, info = env.step(policy(env))
        infos.append(info)
        rewards.append(reward)
        positions.append(env._position.copy())
        validate_info(info)
        if terminated or truncated:
            return info["t_ms"], rewards, infos, positions


def test_defaults_suit_the_brzosko_2017_reproduction():
    env = OpenFieldNavigationEnv()
    # 121 place cells on an 11 x 11 grid at 0.4 a.u. spacing tile the default arena exactly.
    assert env.arena_size == pytest.approx(10 * 0.4)
    assert env.goal_radius == pytest.approx(0.3)
    assert env.trial_timeout_ms == pytest.approx(15000.0)
    assert env.observation_space.dtype == np.float32
    assert env.action_space == gym.spaces.Discrete(8)


def test_escape_latency_criterion_is_meaningful_and_achievable():
    """Issue 5: median latency in late trials <= 25% of the first trials.

    A random walker (what an untrained agent does) mostly times out; a goal-directed
    path needs a small fraction of the time-out. So the criterion separates learning
    from chance by a wide margin.
    """
    env = OpenFieldNavigationEnv()
    rng = np.random.default_rng(0)
    random_latencies, direct_latencies = [], []
    for seed in range(12):
        env.reset(seed=seed)
        for _ in range(5):
            random_latencies.append(run_trial(env, lambda e: int(rng.integers(8)))[0])
        for _ in range(5):
            direct_latencies.append(run_trial(env, lambda e: heading_towards(e, e.goal))[0])
    random_median, direct_median = np.median(random_latencies), np.median(direct_latencies)
    assert random_median >= 0.8 * env.trial_timeout_ms
    assert direct_median <= 0.15 * random_median
    # ... and a random walker still finds the goal sometimes, so there is reward to learn from.
    assert 0.1 <= np.mean(np.array(random_latencies) < env.trial_timeout_ms) <= 0.6


def test_reaching_the_goal_rewards_and_terminates_inside_the_goal():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), start_positions=[(1.6, 0.0)])
    latency, rewards, infos, positions = run_trial(env, lambda e: heading_towards(e, e.goal), seed=0)
    assert rewards[-1] == 1.0 and all(r == 0.0 for r in rewards[:-1])
    assert "reward" in infos[-1]["events"] and "episode_end" in infos[-1]["events"]
    assert math.dist(positions[-1], (1.2, 1.2)) <= env.goal_radius + 1e-9
    assert latency == pytest.approx(env.dt_ms * len(rewards))
    # Straight-line path: the latency is about (distance to the goal edge) / speed.
    expected_ms = (math.dist((1.6, 0.0), (1.2, 1.2)) - env.goal_radius) / env.speed * 1000
    assert expected_ms <= latency <= expected_ms + 2 * env.dt_ms


def test_a_step_that_crosses_the_goal_counts():
    # Step length 1.0 a.u. jumps right over a 0.3-radius goal: the crossing must still count.
    env = OpenFieldNavigationEnv(goal_position=(0.0, 0.0), start_positions=[(-0.7, 0.0)], speed=10.0)
    env.reset(seed=0)
    _, reward, terminated, _, _ = env.step(0)  # east, through the goal
    assert terminated and reward == 1.0
    assert env._position[0] == pytest.approx(-0.3)  # stopped where it entered the goal


def test_time_out_truncates_the_trial():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), start_positions=[(-1.6, 0.0)], trial_timeout_ms=2000.0)
    env.reset(seed=0)
    for k in range(1, 21):
        _, reward, terminated, truncated, info = env.step(4)  # west, into the wall, away from the goal
        assert reward == 0.0 and not terminated
        assert truncated == (k == 20)
    assert info["t_ms"] == pytest.approx(2000.0)
    assert "timeout" in info["events"] and "episode_end" in info["events"]


def test_speed_and_headings_move_the_agent_as_documented():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), start_positions=[(0.0, -1.6)])
    env.reset(seed=0)
    step = env.speed * env.dt_ms / 1000
    env.step(2)  # north
    np.testing.assert_allclose(env._position, (0.0, -1.6 + step), atol=1e-12)
    env.step(1)  # north-east
    np.testing.assert_allclose(env._position, (step / math.sqrt(2), -1.6 + step + step / math.sqrt(2)), atol=1e-12)
    obs, *_ = env.step(4)
    np.testing.assert_allclose(obs, env._position / env.half_size, atol=1e-6)


def test_continuous_actions_are_velocity_commands_in_units_of_speed():
    env = OpenFieldNavigationEnv(continuous=True, goal_position=(1.2, 1.2), start_positions=[(0.0, -1.6)])
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    env.reset(seed=0)
    step = env.speed * env.dt_ms / 1000
    before = env._position.copy()
    env.step(np.array([0.5, 0.0], dtype=np.float32))
    np.testing.assert_allclose(env._position - before, (0.5 * step, 0.0), atol=1e-7)
    before = env._position.copy()
    env.step(np.array([1.0, 1.0], dtype=np.float32))  # longer than 1: scaled to full speed
    assert np.linalg.norm(env._position - before) == pytest.approx(step, rel=1e-6)
    before = env._position.copy()
    env.step(np.zeros(2, dtype=np.float32))
    np.testing.assert_array_equal(env._position, before)


def test_walls_and_obstacle_block_movement():
    env = OpenFieldNavigationEnv(
        goal_position=(1.2, 1.2), start_positions=[(-1.6, 0.0)], obstacle=(-0.5, -0.5, 0.5, 0.5)
    )
    env.reset(seed=0)
    for _ in range(5):
        _, _, _, _, info = env.step(4)  # west into the arena wall
    assert env._position[0] == pytest.approx(-2.0)
    assert "wall" in info["events"]
    for _ in range(30):  # east, straight at the obstacle
        _, _, _, _, info = env.step(0)
        assert not env._inside_obstacle(env._position)
    assert env._position[0] < -0.5 and "wall" in info["events"]
    # A diagonal move into the obstacle slides along it (keeps the free y-component).
    y_before = env._position[1]
    env.step(1)  # north-east
    assert env._position[1] > y_before and not env._inside_obstacle(env._position)


def test_goal_relocates_after_the_configured_trial_and_run_semantics():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), relocate_after_trials=3)
    goals, trials, relocated = [], [], []
    for k in range(6):
        _, info = env.reset(seed=0 if k == 0 else None)
        goals.append((info["latent"]["goal_x"], info["latent"]["goal_y"]))
        trials.append(info["latent"]["trial"])
        relocated.append(info["latent"]["relocated"])
    assert trials == [0, 1, 2, 3, 4, 5]  # the counter persists across plain reset()
    assert goals[:3] == [(1.2, 1.2)] * 3 and goals[3:] == [(-1.2, -1.2)] * 3  # mirrored by default
    assert relocated == [False] * 3 + [True] * 3
    _, info = env.reset(seed=0)  # a seeded reset begins a new run
    assert info["latent"]["trial"] == 0 and not info["latent"]["relocated"]


def test_old_goal_stops_rewarding_after_relocation():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), relocate_after_trials=2, trial_timeout_ms=3000.0)
    habit = lambda e: heading_towards(e, (1.2, 1.2))  # noqa: E731  (always heads for the first goal)
    outcomes = [run_trial(env, habit, seed=0 if k == 0 else None)[1] for k in range(4)]
    assert [sum(r) for r in outcomes] == [1.0, 1.0, 0.0, 0.0]


def test_goal_is_drawn_per_run_from_the_candidates_and_fixed_within_a_run():
    env = OpenFieldNavigationEnv()
    goals = set()
    for seed in range(20):
        _, info = env.reset(seed=seed)
        goal = (info["latent"]["goal_x"], info["latent"]["goal_y"])
        goals.add(goal)
        for _ in range(3):
            _, info = env.reset()
            assert (info["latent"]["goal_x"], info["latent"]["goal_y"]) == goal
    assert goals == set(env.goal_candidates)


def test_novelty_is_one_for_a_new_place_and_falls_with_visits():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), start_positions=[(-1.6, 0.0)])
    start_novelty = [env.reset(seed=0 if k == 0 else None)[1]["novelty"] for k in range(5)]
    np.testing.assert_allclose(start_novelty, [1 / math.sqrt(1 + k) for k in range(5)])
    _, _, _, _, info = env.step(2)  # into a never-visited cell
    assert info["novelty"] == 1.0
    _, info = env.reset(seed=0)  # a new run forgets
    assert info["novelty"] == 1.0


def test_surprise_rises_after_relocation_not_at_it():
    """Surprise is high when the goal is found unexpectedly and when the old goal no longer pays.

    An agent with a habit of going to the first goal: by the end of the first phase the
    observer expects reward at the goal place (low surprise); the relocation itself
    changes nothing the agent sees (the first steps of the next trial are unsurprising);
    surprise jumps only when the agent arrives at the old goal and finds nothing.
    """
    env = OpenFieldNavigationEnv(
        goal_position=(1.2, 1.2), start_positions=[(1.6, 0.0)], relocate_after_trials=8, trial_timeout_ms=2000.0
    )
    habit = lambda e: heading_towards(e, (1.2, 1.2))  # noqa: E731
    trials = [run_trial(env, habit, seed=0 if k == 0 else None)[2] for k in range(10)]
    first_reward_surprise = trials[0][-1]["surprise"]
    last_reward_surprise = trials[7][-1]["surprise"]
    assert first_reward_surprise > 2.0  # found where the observer had no reason to expect it
    assert last_reward_surprise < 0.1 * first_reward_surprise  # by now it expects the goal there
    relocation_trial = trials[8]
    assert relocation_trial[0]["surprise"] == 0.0 and relocation_trial[0]["latent"]["relocated"]
    # Until the agent reaches the old goal place the relocation is invisible.
    steps_to_old_goal = len(trials[7]) - 1
    for before, after in zip(trials[7][1:steps_to_old_goal], relocation_trial[1:steps_to_old_goal]):
        assert after["surprise"] == pytest.approx(before["surprise"], abs=0.02)
    # Arriving at the old goal place and finding nothing is surprising.
    assert max(info["surprise"] for info in relocation_trial) > 2.0
    # Within the trial the observer adapts (forgetting), so surprise falls again.
    assert relocation_trial[-1]["surprise"] < 0.5 * max(info["surprise"] for info in relocation_trial)
    # Expected uncertainty is highest where the observer knows least.
    assert trials[0][1]["uncertainty"] == pytest.approx(math.log(2))


def test_finding_the_goal_is_surprising_and_a_new_empty_place_is_not():
    """The observer learns that places rarely hold the goal, so a new empty place is no
    surprise, while the first discovery of the goal is (the per-place prior is the
    arena-wide base rate, not 50 %)."""
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), start_positions=[(-1.6, -1.6)])
    env.reset(seed=0)
    empty_new_place = []
    for action in [0] * 8 + [2] * 8 + [4] * 8:  # a tour of the south-west, far from the goal
        _, reward, _, _, info = env.step(action)
        if info["novelty"] == 1.0:
            empty_new_place.append(info["surprise"])
    assert len(empty_new_place) > 10 and max(empty_new_place[5:]) < 0.15
    while True:
        _, reward, terminated, truncated, info = env.step(heading_towards(env, env.goal))
        if terminated:
            break
    assert info["surprise"] > 2.5 and reward == 1.0


def test_render_draws_arena_goal_and_path():
    env = gym.make(ENV_ID, render_mode="rgb_array", goal_position=(1.2, 1.2), start_positions=[(-1.6, -1.6)],
                   obstacle=(-0.4, 0.6, 0.4, 1.0))
    env.reset(seed=0)
    path_colour = np.array([40, 70, 200])
    image = env.render()
    assert image.shape == (256, 256, 3) and image.dtype == np.uint8
    start_path = np.all(image == path_colour, axis=-1).sum()
    for _ in range(8):
        env.step(0)  # east along y = -1.6
    image = env.render()
    path_pixels = np.all(image == path_colour, axis=-1)
    assert path_pixels.sum() > start_path + 50
    # The path lies on the row of y = -1.6, between x = -1.6 and x = 0.
    rows, cols = np.nonzero(path_pixels)
    expected_row = (2.0 + 1.6) * 255 / 4.0
    assert np.all(np.abs(rows - expected_row) <= 2)
    assert cols.min() >= (2.0 - 1.6) * 255 / 4 - 2 and cols.max() <= 2.0 * 255 / 4 + 2
    assert np.any(np.all(image == [120, 200, 120], axis=-1))  # the goal
    assert np.any(np.all(image == [110, 110, 110], axis=-1))  # the obstacle
    no_render = OpenFieldNavigationEnv()
    no_render.reset(seed=0)
    assert no_render.render() is None


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"arena_size": 0}, "arena_size"),
        ({"goal_radius": -1}, "goal_radius"),
        ({"speed": float("nan")}, "speed"),
        ({"n_headings": 1}, "n_headings"),
        ({"dt_ms": 0}, "dt_ms"),
        ({"trial_timeout_ms": 10.0}, "trial_timeout_ms"),
        ({"relocate_after_trials": 0}, "relocate_after_trials"),
        ({"goal_position": (5.0, 0.0)}, "goal_position"),
        ({"start_positions": [(1.2, 1.2)], "goal_position": (1.2, 1.2)}, "start_positions"),
        ({"obstacle": (1, 1, 0, 0)}, "obstacle"),
        ({"obstacle": (1.0, 1.0, 1.5, 1.5)}, "obstacle"),
        ({"render_mode": "human"}, "render_mode"),
        ({"observer_retention": 0.0}, "observer_retention"),
        ({"continuous": "yes"}, "continuous"),
    ],
)
def test_invalid_arguments_raise_value_error_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        OpenFieldNavigationEnv(**kwargs)


def test_step_after_the_trial_ended_asks_for_reset():
    env = OpenFieldNavigationEnv(goal_position=(1.2, 1.2), start_positions=[(-1.6, 0.0)], trial_timeout_ms=100.0)
    env.reset(seed=0)
    _, _, _, truncated, _ = env.step(0)
    assert truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
