"""Goal-directed navigation in a continuous 2-D open field (water maze / Brzosko et al. 2017)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from neuromod_gym.envs.base import NeuromodTask, check_finite, check_int, check_positive, check_retention
from neuromod_gym.signals import EVENT_EPISODE_END, EVENT_REWARD, VisitNovelty

EVENT_TRIAL_START = "trial_start"
EVENT_WALL = "wall"
EVENT_TIMEOUT = "timeout"

#: Default goal candidates: the centres of the four quadrants of the default 4 x 4 arena.
DEFAULT_GOAL_CANDIDATES = ((1.2, 1.2), (-1.2, 1.2), (-1.2, -1.2), (1.2, -1.2))
#: Default starts: the four cardinal release points of a Morris water maze (E, N, W, S).
DEFAULT_START_POSITIONS = ((1.6, 0.0), (0.0, 1.6), (-1.6, 0.0), (0.0, -1.6))


def _check_point(name: str, point: Any, half_size: float) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in point)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an (x, y) pair of numbers, got {point!r}") from None
    if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= half_size and abs(y) <= half_size):
        raise ValueError(f"{name} must lie inside the arena [-{half_size}, {half_size}]^2, got {point!r}")
    return x, y


def _segment_point_distance(start: np.ndarray, end: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """(distance from ``point`` to the segment start->end, fraction along it of the closest point)."""
    direction = end - start
    length_sq = float(direction @ direction)
    fraction = 0.0 if length_sq == 0.0 else float(np.clip((point - start) @ direction / length_sq, 0.0, 1.0))
    return float(np.linalg.norm(start + fraction * direction - point)), fraction


def _segment_hits_rectangle(start: np.ndarray, end: np.ndarray, rect: tuple[float, float, float, float]) -> bool:
    """Whether the segment start->end touches the closed rectangle (Liang-Barsky clipping)."""
    x_min, y_min, x_max, y_max = rect
    t_low, t_high = 0.0, 1.0
    delta = end - start
    for p, q in (
        (-delta[0], start[0] - x_min),
        (delta[0], x_max - start[0]),
        (-delta[1], start[1] - y_min),
        (delta[1], y_max - start[1]),
    ):
        if p == 0.0:
            if q < 0.0:
                return False
            continue
        t = q / p
        if p < 0.0:
            t_low = max(t_low, t)
        else:
            t_high = min(t_high, t)
        if t_low > t_high:
            return False
    return True


class PlaceGoalObserver:
    """Ideal observer of "is the goal here?" per place, with a learned base rate.

    A per-place Beta-Bernoulli estimate whose prior is the arena-wide base rate, so a
    place never visited is expected to hold the goal only as often as places do in
    general (a hierarchical estimate; the shared :class:`~neuromod_gym.signals.OutcomeObserver`
    would say 50 % for every new place, which makes finding the goal no more surprising
    than any step into a new place):

        q = (G_goal + 1/2) / (G + 1)                  arena-wide rate, all steps so far
        p(goal | place) = (n_place(goal) + s q) / (n_place + s)

    with s = ``prior_strength`` pseudo-visits. The counts of a place are multiplied by
    ``retention`` before each update there (forgetting with a memory of about
    1 / (1 - retention) visits), so after the goal moves, the old place stops being
    expected to reward within a few visits.
    """

    def __init__(self, retention: float, prior_strength: float = 1.0):
        self.retention = float(retention)
        self.prior_strength = float(prior_strength)
        self.place_counts: dict[tuple[int, int], list[float]] = {}
        self.global_counts = [0.0, 0.0]

    def goal_probability(self, place: tuple[int, int]) -> float:
        base_rate = (self.global_counts[1] + 0.5) / (sum(self.global_counts) + 1.0)
        no_goal, goal = self.place_counts.get(place, (0.0, 0.0))
        return (goal + self.prior_strength * base_rate) / (no_goal + goal + self.prior_strength)

    def uncertainty(self, place: tuple[int, int]) -> float:
        """Entropy (nats) of the prediction for ``place``."""
        p = self.goal_probability(place)
        return float(-sum(x * math.log(x) for x in (p, 1.0 - p) if x > 0.0))

    def observe(self, place: tuple[int, int], goal: bool) -> tuple[float, float]:
        """(surprise, uncertainty) of the outcome, both before the update; then learn."""
        p = self.goal_probability(place)
        surprise = -math.log(p if goal else 1.0 - p)
        uncertainty = self.uncertainty(place)
        counts = self.place_counts.setdefault(place, [0.0, 0.0])
        counts[0] *= self.retention
        counts[1] *= self.retention
        counts[int(goal)] += 1.0
        self.global_counts[int(goal)] += 1.0
        return surprise, uncertainty

    def clear(self) -> None:
        self.place_counts.clear()
        self.global_counts = [0.0, 0.0]


class OpenFieldNavigationEnv(NeuromodTask):
    """Find a hidden circular goal in a square open field from a few release points.

    A continuous-space navigation task in the tradition of the Morris water maze, as
    modelled by Fremaux, Sprekeler & Gerstner (2013, PLoS Comput Biol 9:e1003024) and
    Brzosko, Zannone, Schultz, Clopath & Paulsen (2017, eLife 6:e27756): the agent is
    released at one of several start positions, moves at a fixed speed in the heading it
    chooses, and is rewarded when it enters a circular goal it cannot see. The goal may
    move to a new place after a configurable number of trials (Brzosko 2017: after trial
    20 of 40). The defaults suit that reproduction: a 4 x 4 arena tiled exactly by the
    paper's 11 x 11 = 121 place cells at 0.4 spacing, a goal of radius 0.3 and 15 s trials.

    ## Observation
    | index | meaning | range |
    |---|---|---|
    | 0 | x position / (arena_size / 2) | [-1, 1] |
    | 1 | y position / (arena_size / 2) | [-1, 1] |

    ``Box(-1, 1, (2,), float32)``; (0, 0) is the arena centre, +y is north. The goal is
    not observed: it must be learned.

    ## Action
    | variant | space | meaning |
    |---|---|---|
    | ``continuous=False`` (default) | ``Discrete(n_headings)`` | move at ``speed`` in heading ``2 pi k / n_headings`` (0 = east, counter-clockwise; default 8 headings: E, NE, N, NW, W, SW, S, SE) |
    | ``continuous=True`` | ``Box(-1, 1, (2,), float32)`` | velocity command (vx, vy) in units of ``speed``; commands longer than 1 are scaled to length 1, (0, 0) stands still |

    Each step moves the agent for ``dt_ms``. Walls: a move is clipped at the arena
    border (the agent slides along the wall); a move that would cross the obstacle is
    replaced by its x-only or y-only part if that is free (sliding), else the agent stays.
    Either case emits the ``"wall"`` event.

    ## Reward
    | when | reward |
    |---|---|
    | the path of this step enters the goal circle | ``goal_reward`` (default 1.0) |
    | any other step | ``step_reward`` (default 0.0; e.g. -0.01 for a time cost) |

    After relocation only the NEW goal rewards; crossing the old place gives nothing.

    ## Episode end
    One episode is one trial.
    | condition | flag |
    |---|---|
    | goal entered (the agent stops on the goal, at the point where it entered it) | ``terminated`` |
    | ``trial_timeout_ms`` of task time elapsed without reaching the goal | ``truncated`` |

    The escape latency of a trial is ``info["t_ms"]`` at its last step (``trial_timeout_ms``
    when truncated). The env truncates on its own, so it is registered without a
    ``TimeLimit``.

    **Runs and trials.** A *run* begins at ``reset(seed=...)`` (or at the very first
    ``reset()``): the trial counter goes to 0, the goal is placed (``goal_position``, or
    drawn from ``goal_candidates``, counterbalanced across seeds like the platform
    quadrant across rats) and the observers' memories are cleared. Every later plain
    ``reset()`` starts the next trial of the same run, keeping the counter, the goal and
    the memories; this is what Gymnasium's vector-env autoreset does. The goal moves to
    ``relocated_goal_position`` (default: the goal mirrored through the arena centre,
    i.e. the opposite quadrant) from trial index ``relocate_after_trials`` on (0-based:
    with 20, trials 0-19 use the first goal and trials 20+ the new one). The relocation
    is unsignalled.

    ## info
    | key | meaning |
    |---|---|
    | ``novelty`` | :class:`~neuromod_gym.signals.VisitNovelty` of the grid cell the agent is in (``grid_cells_per_side``^2 cells over the arena): 1 on the first visit in the run, 1/sqrt(1 + n) after n visits |
    | ``surprise`` | -log p(outcome), the outcome being "goal reached or not" in the grid cell the agent arrives in, p from a :class:`PlaceGoalObserver` (per-cell estimate shrunk to the arena-wide rate, forgetting ``observer_retention``). High when the goal is found where it was not expected and, after a relocation, when the old goal place no longer rewards: in the trials after the change, not at it. 0 at reset |
    | ``uncertainty`` | entropy (nats) of that observer's prediction for the cell, before the outcome: high where the goal is sometimes found (the goal's rim, the old goal after relocation), low where the observer is sure |
    | ``t_ms`` | ms since the trial began (``dt_ms`` per step) |
    | ``events`` | ``"trial_start"`` at reset; ``"wall"`` when a move was blocked; ``"reward"`` on reaching the goal; ``"timeout"`` and ``"episode_end"`` as the trial ends |
    | ``latent`` | ``goal_x``, ``goal_y`` (current goal centre, arena units), ``trial`` (0-based trial index in the run), ``relocated`` (bool: the goal has moved), ``goal_distance`` (from the agent to the goal centre) |

    ## Arguments
    | name | default | unit / meaning |
    |---|---|---|
    | ``arena_size`` | 4.0 | side of the square arena, arena units (a.u.); arena = [-size/2, size/2]^2 |
    | ``goal_radius`` | 0.3 | a.u. |
    | ``goal_position`` | None | (x, y) a.u.; None = drawn per run from ``goal_candidates`` |
    | ``goal_candidates`` | quadrant centres (+-1.2, +-1.2) | (x, y) pairs, a.u. |
    | ``relocate_after_trials`` | None | int >= 1: the goal moves from this 0-based trial index on; None = never (Brzosko 2017: 20) |
    | ``relocated_goal_position`` | None | (x, y) a.u.; None = the goal mirrored through the centre |
    | ``start_positions`` | (+-1.6, 0), (0, +-1.6) | (x, y) pairs, a.u.; one is drawn per trial (give one pair for a fixed start) |
    | ``obstacle`` | None | (x_min, y_min, x_max, y_max) a.u., an impassable rectangle, or None |
    | ``speed`` | 2.0 | a.u. per second (0.2 a.u. per default step) |
    | ``n_headings`` | 8 | number of discrete headings (``continuous=False``) |
    | ``continuous`` | False | Box velocity actions instead of discrete headings |
    | ``dt_ms`` | 100.0 | ms of task time per step |
    | ``trial_timeout_ms`` | 15000.0 | ms per trial before truncation |
    | ``goal_reward`` | 1.0 | reward for reaching the goal |
    | ``step_reward`` | 0.0 | reward on every other step |
    | ``grid_cells_per_side`` | 20 | spatial resolution of the novelty / surprise observers |
    | ``observer_retention`` | 0.9 | forgetting of the outcome observer per visit of a cell, in (0, 1] |
    | ``render_mode`` | None | None or ``"rgb_array"`` (arena, goal, old goal, obstacle, path, agent) |
    | ``render_size`` | 256 | pixels per side of the rendered image |
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        arena_size: float = 4.0,
        goal_radius: float = 0.3,
        goal_position: Sequence[float] | None = None,
        goal_candidates: Sequence[Sequence[float]] = DEFAULT_GOAL_CANDIDATES,
        relocate_after_trials: int | None = None,
        relocated_goal_position: Sequence[float] | None = None,
        start_positions: Sequence[Sequence[float]] = DEFAULT_START_POSITIONS,
        obstacle: Sequence[float] | None = None,
        speed: float = 2.0,
        n_headings: int = 8,
        continuous: bool = False,
        dt_ms: float = 100.0,
        trial_timeout_ms: float = 15000.0,
        goal_reward: float = 1.0,
        step_reward: float = 0.0,
        grid_cells_per_side: int = 20,
        observer_retention: float = 0.9,
        render_mode: str | None = None,
        render_size: int = 256,
    ):
        self.arena_size = check_positive("arena_size", arena_size)
        self.half_size = self.arena_size / 2.0
        self.goal_radius = check_positive("goal_radius", goal_radius)
        if self.goal_radius >= self.half_size:
            raise ValueError(f"goal_radius must be smaller than half the arena_size, got {goal_radius!r}")
        self.speed = check_positive("speed", speed)
        self.dt_ms = check_positive("dt_ms", dt_ms)
        self.trial_timeout_ms = check_positive("trial_timeout_ms", trial_timeout_ms)
        if self.trial_timeout_ms < self.dt_ms:
            raise ValueError(f"trial_timeout_ms must be >= dt_ms ({self.dt_ms}), got {trial_timeout_ms!r}")
        self.step_length = self.speed * self.dt_ms / 1000.0
        self.goal_reward = check_finite("goal_reward", goal_reward)
        self.step_reward = check_finite("step_reward", step_reward)
        if not isinstance(continuous, (bool, np.bool_)):
            raise ValueError(f"continuous must be a bool, got {continuous!r}")
        self.continuous = bool(continuous)
        self.n_headings = check_int("n_headings", n_headings, 2)
        self.grid_cells_per_side = check_int("grid_cells_per_side", grid_cells_per_side, 1)
        self.observer_retention = check_retention("observer_retention", observer_retention)
        self._set_render_mode(render_mode)
        self.render_size = check_int("render_size", render_size, 32)

        # Obstacle first: goals and starts are checked against it.
        if obstacle is None:
            self.obstacle: tuple[float, float, float, float] | None = None
        else:
            try:
                x_min, y_min, x_max, y_max = (float(v) for v in obstacle)
            except (TypeError, ValueError):
                raise ValueError(f"obstacle must be (x_min, y_min, x_max, y_max) or None, got {obstacle!r}") from None
            if not (all(math.isfinite(v) for v in (x_min, y_min, x_max, y_max)) and x_min < x_max and y_min < y_max):
                raise ValueError(f"obstacle must be a non-empty (x_min, y_min, x_max, y_max) rectangle, got {obstacle!r}")
            self.obstacle = (x_min, y_min, x_max, y_max)

        if goal_position is None:
            if len(goal_candidates) == 0:
                raise ValueError("goal_candidates must hold at least one (x, y) pair when goal_position is None")
            self.goal_candidates = tuple(
                _check_point(f"goal_candidates[{i}]", p, self.half_size) for i, p in enumerate(goal_candidates)
            )
            self.goal_position = None
        else:
            self.goal_position = _check_point("goal_position", goal_position, self.half_size)
            self.goal_candidates = (self.goal_position,)
        if relocate_after_trials is not None:
            relocate_after_trials = check_int("relocate_after_trials", relocate_after_trials, 1)
        self.relocate_after_trials = relocate_after_trials
        self.relocated_goal_position = (
            None
            if relocated_goal_position is None
            else _check_point("relocated_goal_position", relocated_goal_position, self.half_size)
        )
        if len(start_positions) == 0:
            raise ValueError("start_positions must hold at least one (x, y) pair")
        self.start_positions = tuple(
            _check_point(f"start_positions[{i}]", p, self.half_size) for i, p in enumerate(start_positions)
        )
        possible_goals = list(self.goal_candidates) + [self._relocated(g) for g in self.goal_candidates]
        for goal in possible_goals:
            if self.obstacle is not None and self._inside_obstacle(np.array(goal), margin=self.goal_radius):
                raise ValueError(f"goal {goal} (radius {self.goal_radius}) overlaps the obstacle {self.obstacle}")
            for start in self.start_positions:
                if math.dist(goal, start) <= self.goal_radius:
                    raise ValueError(f"start_positions {start} lies inside the goal at {goal}")
        for start in self.start_positions:
            if self.obstacle is not None and self._inside_obstacle(np.array(start)):
                raise ValueError(f"start_positions {start} lies inside the obstacle {self.obstacle}")

        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        if self.continuous:
            self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        else:
            self.action_space = gym.spaces.Discrete(self.n_headings)
            angles = 2.0 * np.pi * np.arange(self.n_headings) / self.n_headings
            self._headings = np.stack([np.cos(angles), np.sin(angles)], axis=1)

        self.novelty_memory = VisitNovelty()
        self.outcome_memory = PlaceGoalObserver(retention=self.observer_retention)
        self._trial = -1
        self._first_goal = (0.0, 0.0)
        self._position = np.zeros(2)
        self._path: list[tuple[float, float]] = []
        self._trial_over = True

    # ------------------------------------------------------------------ geometry
    def _relocated(self, goal: tuple[float, float]) -> tuple[float, float]:
        if self.relocated_goal_position is not None:
            return self.relocated_goal_position
        return (-goal[0], -goal[1])

    def _inside_obstacle(self, point: np.ndarray, margin: float = 0.0) -> bool:
        if self.obstacle is None:
            return False
        x_min, y_min, x_max, y_max = self.obstacle
        return bool(
            x_min - margin <= point[0] <= x_max + margin and y_min - margin <= point[1] <= y_max + margin
        )

    @property
    def relocated(self) -> bool:
        """Whether the goal has moved (the current trial uses the relocated goal)."""
        return self.relocate_after_trials is not None and self._trial >= self.relocate_after_trials

    @property
    def goal(self) -> tuple[float, float]:
        """The goal centre of the current trial (hidden from the agent)."""
        return self._relocated(self._first_goal) if self.relocated else self._first_goal

    def _cell(self, position: np.ndarray) -> tuple[int, int]:
        """Grid cell of a position: the observers' notion of a place."""
        n = self.grid_cells_per_side
        index = np.floor((position + self.half_size) / self.arena_size * n).astype(int)
        index = np.clip(index, 0, n - 1)
        return int(index[0]), int(index[1])

    def _move(self, displacement: np.ndarray) -> tuple[np.ndarray, bool]:
        """New position after trying ``displacement``, and whether a wall blocked any of it."""
        start = self._position
        for attempt in (displacement, np.array([displacement[0], 0.0]), np.array([0.0, displacement[1]])):
            end = np.clip(start + attempt, -self.half_size, self.half_size)
            if self.obstacle is not None and _segment_hits_rectangle(start, end, self.obstacle):
                continue
            blocked = attempt is not displacement or not np.allclose(end - start, displacement)
            return end, bool(blocked)
        return start.copy(), True

    # ------------------------------------------------------------------ gym API
    def _observation(self) -> np.ndarray:
        return np.clip(self._position / self.half_size, -1.0, 1.0).astype(np.float32)

    def _latent(self) -> dict[str, Any]:
        goal = self.goal
        return {
            "goal_x": float(goal[0]),
            "goal_y": float(goal[1]),
            "trial": int(self._trial),
            "relocated": bool(self.relocated),
            "goal_distance": float(math.dist(goal, self._position)),
        }

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        new_run = self._begin_reset(seed, options)
        if new_run:
            # A new run: forget everything and place the goal for the run.
            self._trial = -1
            self.novelty_memory.clear()
            self.outcome_memory.clear()
            self._first_goal = self.goal_candidates[int(self.np_random.integers(len(self.goal_candidates)))]
        self._trial += 1
        self._position = np.array(self.start_positions[int(self.np_random.integers(len(self.start_positions)))])
        self._path = [tuple(self._position)]
        self._trial_over = False
        self._start_clock()
        cell = self._cell(self._position)
        info = self._info(
            novelty=self.novelty_memory.visit(cell),
            surprise=0.0,
            uncertainty=self.outcome_memory.uncertainty(cell),
            events=(EVENT_TRIAL_START,),
            latent=self._latent(),
        )
        return self._observation(), info

    def step(self, action: Any):
        if self._trial_over:
            raise RuntimeError("the trial is over (or never began): call reset() before step()")
        action = self._check_action(action)
        if self.continuous:
            command = np.asarray(action, dtype=np.float64)
            norm = float(np.linalg.norm(command))
            if norm > 1.0:
                command = command / norm
            displacement = command * self.step_length
        else:
            displacement = self._headings[action] * self.step_length
        start = self._position
        end, blocked = self._move(displacement)
        goal = np.array(self.goal)
        distance, fraction = _segment_point_distance(start, end, goal)
        reached = distance <= self.goal_radius
        if reached and np.linalg.norm(end - goal) > self.goal_radius:
            # The path crossed the goal: stop where it entered it (the escape platform).
            direction = end - start
            a = float(direction @ direction)
            b = 2.0 * float(direction @ (start - goal))
            c = float((start - goal) @ (start - goal)) - self.goal_radius**2
            entry = (-b - math.sqrt(max(b * b - 4 * a * c, 0.0))) / (2 * a)
            end = start + max(0.0, min(entry, fraction)) * direction
        self._position = end
        self._path.append(tuple(end))
        self._advance_clock()

        cell = self._cell(end)
        surprise, uncertainty = self.outcome_memory.observe(cell, bool(reached))
        novelty = self.novelty_memory.visit(cell)
        terminated = bool(reached)
        # Truncate at the step that reaches the time-out (small tolerance against float drift).
        truncated = not terminated and self.t_ms >= self.trial_timeout_ms - 1e-9
        events = []
        if blocked:
            events.append(EVENT_WALL)
        if reached:
            events.append(EVENT_REWARD)
        if truncated:
            events.append(EVENT_TIMEOUT)
        if terminated or truncated:
            events.append(EVENT_EPISODE_END)
            self._trial_over = True
        reward = self.goal_reward if reached else self.step_reward
        info = self._info(novelty, surprise, uncertainty, events=tuple(events), latent=self._latent())
        return self._observation(), float(reward), terminated, truncated, info

    # ------------------------------------------------------------------ rendering
    def render(self):
        if self.render_mode != "rgb_array":
            return None
        size = self.render_size
        image = np.full((size, size, 3), 255, dtype=np.uint8)
        rows, cols = np.mgrid[0:size, 0:size]
        scale = (size - 1) / self.arena_size

        def to_pixel(x: float, y: float) -> tuple[float, float]:
            return (x + self.half_size) * scale, (self.half_size - y) * scale  # (col, row), +y up

        def disc(x: float, y: float, radius_px: float, colour: tuple[int, int, int], ring: bool = False) -> None:
            col, row = to_pixel(x, y)
            distance = np.hypot(cols - col, rows - row)
            mask = (distance <= radius_px) & (distance >= radius_px - 2.0) if ring else distance <= radius_px
            image[mask] = colour

        if self.obstacle is not None:
            x_min, y_min, x_max, y_max = self.obstacle
            c0, r0 = to_pixel(x_min, y_max)
            c1, r1 = to_pixel(x_max, y_min)
            image[int(round(r0)) : int(round(r1)) + 1, int(round(c0)) : int(round(c1)) + 1] = (110, 110, 110)
        if self.relocated:
            disc(*self._first_goal, self.goal_radius * scale, (200, 120, 120), ring=True)  # the old goal
        disc(*self.goal, self.goal_radius * scale, (120, 200, 120))
        for (x0, y0), (x1, y1) in zip(self._path[:-1], self._path[1:]):
            c0, r0 = to_pixel(x0, y0)
            c1, r1 = to_pixel(x1, y1)
            n = int(max(abs(c1 - c0), abs(r1 - r0))) * 2 + 2
            cs = np.clip(np.round(np.linspace(c0, c1, n)).astype(int), 0, size - 1)
            rs = np.clip(np.round(np.linspace(r0, r1, n)).astype(int), 0, size - 1)
            for dr in (0, 1):
                for dc in (0, 1):
                    image[np.clip(rs + dr, 0, size - 1), np.clip(cs + dc, 0, size - 1)] = (40, 70, 200)
        disc(*self._position, max(3.0, size / 80), (220, 40, 40))
        image[:2, :] = image[-2:, :] = image[:, :2] = image[:, -2:] = (30, 30, 30)  # the arena wall
        return image
