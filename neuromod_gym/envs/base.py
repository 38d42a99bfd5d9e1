"""Shared plumbing for neuromod-gym tasks: the task clock, action checking and the info dict."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from neuromod_gym.signals import EVENTS, LATENT, NOVELTY, SURPRISE, T_MS, UNCERTAINTY


def check_finite(name: str, value: float) -> float:
    """Return ``value`` as float, or raise ValueError naming ``name`` if not a finite number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(float(value)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def check_positive(name: str, value: float) -> float:
    """Return ``value`` as float, or raise ValueError naming ``name`` if not finite and > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return value


def check_probability(name: str, value: float) -> float:
    """Return ``value`` as float, or raise ValueError naming ``name`` if not in [0, 1]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return value


def check_retention(name: str, value: float) -> float:
    """Return ``value`` as float, or raise ValueError naming ``name`` if not in (0, 1].

    For forgetting factors of the ideal observers: 1 = never forget, 0 would forget
    everything before it is used.
    """
    value = check_probability(name, value)
    if value == 0.0:
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
    return value


def ms_to_steps(name: str, value: Any, dt_ms: float, minimum_steps: int) -> int:
    """A duration in ms -> whole steps of ``dt_ms``; ValueError naming ``name`` otherwise."""
    duration = check_positive(name, value) if minimum_steps > 0 else float(value)
    steps = round(duration / dt_ms)
    if not math.isclose(steps * dt_ms, duration, rel_tol=1e-9, abs_tol=1e-6):
        raise ValueError(f"{name} must be a whole multiple of dt_ms={dt_ms}, got {value!r}")
    if steps < minimum_steps:
        raise ValueError(f"{name} must be at least {minimum_steps} step(s) of dt_ms={dt_ms}, got {value!r}")
    return int(steps)


def ms_range_to_steps(name: str, value: Any, dt_ms: float, minimum_steps: int) -> tuple[int, int]:
    """(low, high) in ms -> the whole numbers of ``dt_ms`` steps lying inside it.

    Raises ValueError naming ``name`` when the range is malformed, holds no whole
    number of steps, or starts below ``minimum_steps``.
    """
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of ms, got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high):
        raise ValueError(f"{name} must satisfy 0 <= low <= high (finite ms), got {value!r}")
    # The small tolerance keeps e.g. 300 ms / 100 ms = 2.9999999 from losing a step.
    low_steps = math.ceil(low / dt_ms - 1e-9)
    high_steps = math.floor(high / dt_ms + 1e-9)
    if low_steps > high_steps:
        raise ValueError(f"{name}={value!r} contains no whole number of dt_ms={dt_ms} steps")
    if low_steps < minimum_steps:
        raise ValueError(
            f"{name}={value!r} must be at least {minimum_steps * dt_ms} ms ({minimum_steps} step(s) of dt_ms)"
        )
    return low_steps, high_steps


def check_int(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as int, or raise ValueError naming ``name`` if not an int >= minimum."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


class NeuromodTask(gym.Env):
    """Base class of the neuromod-gym tasks.

    Subclasses set ``dt_ms`` (ms of task time per step) in ``__init__``, call
    :meth:`_start_clock` in ``reset`` and :meth:`_advance_clock` in ``step``, validate
    actions with :meth:`_check_action` and build ``info`` with :meth:`_info`, so every
    task satisfies the signal contract of :mod:`neuromod_gym.signals` the same way.
    Randomness comes only from ``self.np_random`` (seeded by ``reset(seed=...)``).

    Runs and episodes: a *run* (hidden schedule, trial counter, the observers' memory)
    begins at the first ``reset``, at ``reset(seed=...)`` and at
    ``reset(options={"new_run": True})``; a plain ``reset()`` starts the next episode of
    the same run. Subclasses call :meth:`_begin_reset` to get that decision.
    """

    dt_ms: float = 1.0
    _run_started: bool = False

    def _begin_reset(self, seed: int | None, options: dict[str, Any] | None) -> bool:
        """Seed ``np_random`` (if a seed is given) and say whether a new run starts."""
        super().reset(seed=seed)
        new_run = seed is not None or not self._run_started or bool((options or {}).get("new_run", False))
        self._run_started = True
        return new_run

    def _set_render_mode(self, render_mode: str | None) -> None:
        """Accept None or one of ``metadata["render_modes"]``; ValueError otherwise."""
        modes = self.metadata.get("render_modes", [])
        if render_mode is not None and render_mode not in modes:
            raise ValueError(
                f"render_mode must be None or one of {modes} for {type(self).__name__}, got {render_mode!r}"
            )
        self.render_mode = render_mode

    def _require_run(self) -> None:
        if not self._run_started:
            raise RuntimeError("call reset() before step()")

    def _start_clock(self) -> None:
        self._t_ms = 0.0

    def _advance_clock(self) -> None:
        self._t_ms += self.dt_ms

    @property
    def t_ms(self) -> float:
        """Task time since the episode began, in ms."""
        return getattr(self, "_t_ms", 0.0)

    def _check_action(self, action: Any) -> Any:
        """Refuse actions outside the action space with a ValueError (not an assert).

        Returns the action converted to the space's canonical type (int for Discrete,
        float32 array for Box).
        """
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            if isinstance(action, (bool, np.bool_)) or not space.contains(action):
                # Accept plain integral numpy arrays of shape (1,) as SB3 sometimes passes them.
                if (
                    isinstance(action, np.ndarray)
                    and action.shape == (1,)
                    and np.issubdtype(action.dtype, np.integer)
                    and space.contains(action[0])
                ):
                    return int(action[0])
                raise ValueError(f"invalid action {action!r} for action space {space}")
            return int(action)
        if isinstance(space, gym.spaces.Box):
            try:
                array = np.asarray(action, dtype=np.float32)
            except (TypeError, ValueError):
                raise ValueError(f"invalid action {action!r} for action space {space}") from None
            if array.shape != space.shape or not np.all(np.isfinite(array)):
                raise ValueError(f"invalid action {action!r} for action space {space}")
            return np.clip(array, space.low, space.high)
        if not space.contains(action):
            raise ValueError(f"invalid action {action!r} for action space {space}")
        return action

    def _info(
        self,
        novelty: float,
        surprise: float,
        uncertainty: float,
        events: tuple[str, ...] = (),
        latent: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """The info dict of the signal contract (plain floats so vector envs batch them)."""
        return {
            NOVELTY: float(novelty),
            SURPRISE: float(surprise),
            UNCERTAINTY: float(uncertainty),
            T_MS: float(self.t_ms),
            EVENTS: tuple(events),
            LATENT: dict(latent or {}),
            **extra,
        }
