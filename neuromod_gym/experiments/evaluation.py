"""The one evaluation protocol of neuromod-gym (every learner, every table).

``evaluate(agent, env_id, n_episodes)`` plays ``n_episodes`` whole episodes on a SEPARATE
env made with ``gym.make(env_id)``, episode ``i`` reset with seed ``EVAL_SEED + i`` (so
every evaluation of every learner sees the same episodes), actions from
``agent.predict(obs, state, episode_start, deterministic=True)``: greedy, plasticity and
gradient updates frozen (``predict`` never learns). Its steps are not counted in any
training budget. This is stable-baselines3's ``evaluate_policy`` loop (deterministic,
recurrent ``state`` and ``episode_start`` passed back, undiscounted episode return) and
the convention of ``scripts/bench_agent.py`` (20 episodes from seed 10,000 there).
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["EVAL_SEED", "evaluate"]

EVAL_SEED = 10_000  #: seed of the first evaluation episode (episode i: EVAL_SEED + i)


def evaluate(agent, env_id: str, n_episodes: int = 10, seed: int = EVAL_SEED,
             batch: int = 1) -> np.ndarray:
    """Undiscounted returns of ``n_episodes`` deterministic episodes, shape (n_episodes,).

    ``agent``: anything with the stable-baselines3 ``predict`` surface (SpikingAgent,
    RateTwinAgent, BaselineAgent, an SB3 model).
    ``batch``: > 1 plays that many episodes at a time through one batched ``predict``
    (same episodes, same seeds, same returns for a feed-forward agent; 1,000-episode
    evaluations of the spiking agent are too slow one by one). The batched loop passes no
    recurrent ``state``; an env whose episode ended keeps its last observation (its
    actions are ignored) until the whole batch is done.
    """
    if not isinstance(n_episodes, (int, np.integer)) or n_episodes < 1:
        raise ValueError(f"n_episodes must be an int >= 1, got {n_episodes!r}")
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    import neuromod_gym  # noqa: F401  (registers the tasks)

    if batch > 1:
        return _evaluate_batched(agent, env_id, n_episodes, seed, int(batch))

    env = gym.make(env_id)
    returns = np.zeros(n_episodes)
    try:
        for i in range(n_episodes):
            obs, _ = env.reset(seed=seed + i)
            state, start, done = None, True, False
            while not done:
                action, state = agent.predict(obs, state=state, episode_start=np.array([start]),
                                              deterministic=True)
                start = False
                obs, reward, terminated, truncated, _ = env.step(_env_action(env.action_space, action))
                returns[i] += float(reward)
                done = terminated or truncated
    finally:
        env.close()
    return returns


def _env_action(space, action):
    """One env's action from ``predict``'s output: an int for Discrete spaces (predict may
    return a 0-d or 1-element array), an array of the space's shape and dtype for Box."""
    if isinstance(space, gym.spaces.Box):
        return np.asarray(action, dtype=space.dtype).reshape(space.shape)
    return int(np.asarray(action).reshape(-1)[0])


def _evaluate_batched(agent, env_id: str, n_episodes: int, seed: int, batch: int) -> np.ndarray:
    returns = np.zeros(n_episodes)
    pool = [gym.make(env_id) for _ in range(min(batch, n_episodes))]  # reused: reset reseeds
    try:
        for first in range(0, n_episodes, batch):
            m = min(batch, n_episodes - first)
            envs = pool[:m]
            obs = np.array([env.reset(seed=seed + first + i)[0] for i, env in enumerate(envs)])
            done = np.zeros(m, bool)
            start = True
            while not done.all():
                actions, _ = agent.predict(obs, episode_start=np.full(m, start),
                                           deterministic=True)
                start = False
                for i in np.nonzero(~done)[0]:
                    o, reward, terminated, truncated, _ = envs[i].step(
                        _env_action(envs[i].action_space, actions[i]))
                    obs[i] = o
                    returns[first + i] += float(reward)
                    done[i] = terminated or truncated
    finally:
        for env in pool:
            env.close()
    return returns
