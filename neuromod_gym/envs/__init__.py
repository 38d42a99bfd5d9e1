"""The neuromod-gym tasks, one module per task, registered as ``neuromod_gym/<Name>-v0``."""

from __future__ import annotations

import gymnasium as gym

#: (id, entry point, max_episode_steps or None). Add a task here and nowhere else.
TASKS: tuple[tuple[str, str, int | None], ...] = (
    ("neuromod_gym/DistalReward-v0", "neuromod_gym.envs.distal_reward:DistalRewardEnv", None),
    ("neuromod_gym/ReversalBandit-v0", "neuromod_gym.envs.reversal_bandit:ReversalBanditEnv", None),
    ("neuromod_gym/TraceConditioning-v0", "neuromod_gym.envs.trace_conditioning:TraceConditioningEnv", None),
    ("neuromod_gym/OpenFieldNavigation-v0", "neuromod_gym.envs.open_field:OpenFieldNavigationEnv", None),
    ("neuromod_gym/VolatileCue-v0", "neuromod_gym.envs.volatile_cue:VolatileCueEnv", None),
    ("neuromod_gym/NoveltyTMaze-v0", "neuromod_gym.envs.novelty_tmaze:NoveltyTMazeEnv", None),
)


def register_tasks() -> None:
    """Register every task with Gymnasium (idempotent)."""
    for env_id, entry_point, max_episode_steps in TASKS:
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, max_episode_steps=max_episode_steps)


def task_ids() -> list[str]:
    """The ids of all neuromod-gym tasks."""
    return [env_id for env_id, _, _ in TASKS]
