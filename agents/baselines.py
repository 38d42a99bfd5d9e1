"""stable-baselines3 baselines (PPO, A2C, DQN) behind the spiking agents' small surface.

    agent = BaselineAgent("CartPole-v1", algorithm="ppo", seed=0)
    agent.learn(20_000, callback=None)               # env steps, summed over parallel envs
    action, _ = agent.predict(obs, deterministic=True)
    agent.episode_returns, agent.episode_lengths     # finished training episodes, in order

Hyperparameters come from ``agents/hyperparams/{ppo,a2c,dqn}.yaml``: rl-zoo3's tuned values
for the Gymnasium tasks where rl-zoo3 has them (e.g. PPO on CartPole-v1: 8 envs,
n_steps 32, ...), sensible small-task defaults for ours; keyword arguments override them.
torch and stable-baselines3 are imported lazily (only when an agent is built), so the
spiking core never imports torch; install them with the ``baselines`` extra.
"""
from __future__ import annotations

import os
from importlib.util import find_spec
from typing import Any, Callable

import numpy as np

from agents.hyperparams import load_hyperparams

__all__ = ["BASELINES", "BaselineAgent", "baseline_hyperparams", "baselines_available"]

BASELINES = ("ppo", "a2c", "dqn")


def baselines_available() -> bool:
    """True when stable-baselines3 (and so torch) can be imported."""
    return find_spec("stable_baselines3") is not None


def baseline_hyperparams(algorithm: str, env_id: str | None) -> dict[str, Any]:
    """``default`` merged with ``env_id``'s entry of ``<algorithm>.yaml``
    (:func:`agents.hyperparams.load_hyperparams`, the one loader).

    Raises:
        ValueError: unknown algorithm or a malformed file.
    """
    if algorithm not in BASELINES:
        raise ValueError(f"unknown baseline {algorithm!r}; known: {list(BASELINES)}")
    return load_hyperparams(algorithm, env_id)


def _linear(start: float) -> Callable[[float], float]:
    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start
    return schedule


def _resolve(value: Any) -> Any:
    """rl-zoo3's ``"lin_0.001"`` -> a linear schedule from 0.001 to 0."""
    if isinstance(value, str) and value.startswith("lin_"):
        return _linear(float(value[4:]))
    return value


class BaselineAgent:
    """A stable-baselines3 model with the harness's surface.

    Args:
        env: env id (``n_envs`` copies are made with ``make_vec_env``, seeds ``seed..``) or
            a Gymnasium env (then ``n_envs`` must be 1).
        algorithm: ``"ppo"``, ``"a2c"`` or ``"dqn"``.
        seed: seeds the model (torch, action noise) and the training envs; same seed and
            one torch thread give the same training.
        **params: constructor arguments of the SB3 algorithm plus ``n_envs`` and
            ``policy``; unspecified ones come from ``<algorithm>.yaml``.

    Attributes:
        params: the resolved hyperparameters (YAML + overrides, schedules as "lin_X").
        num_timesteps: env steps taken so far (all parallel envs counted).
        episode_returns / episode_lengths: finished training episodes (Monitor values).
    """

    agent_kind = "baseline"
    rule = ""

    def __init__(self, env, algorithm: str = "ppo", seed: int = 0, **params: Any):
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be an int >= 0, got {seed!r}")
        env_id = env if isinstance(env, str) else getattr(getattr(env, "spec", None), "id", None)
        self.params = {**baseline_hyperparams(algorithm, env_id), **params}
        if not baselines_available():
            raise ValueError("stable-baselines3 is not installed: pip install -e '.[baselines]'")
        import stable_baselines3
        from stable_baselines3.common.env_util import make_vec_env

        self.algorithm = self.architecture = algorithm
        self.seed = int(seed)
        self.env_id = env_id
        kwargs = {k: _resolve(v) for k, v in self.params.items()}
        n_envs = int(kwargs.pop("n_envs", 1))
        policy = kwargs.pop("policy", "MlpPolicy")
        if isinstance(env, str):
            import gymnasium as gym

            import neuromod_gym  # noqa: F401  (registers the tasks)
            # A callable, not the id: make_vec_env would ask for render_mode="rgb_array",
            # which tasks without rendering refuse.
            vec_env = make_vec_env(lambda: gym.make(env), n_envs=n_envs, seed=self.seed)
        else:
            if n_envs != 1:
                raise ValueError("pass an env id to train on several envs (n_envs > 1)")
            from stable_baselines3.common.monitor import Monitor
            from stable_baselines3.common.vec_env import DummyVecEnv
            vec_env = DummyVecEnv([lambda: Monitor(env)])
            vec_env.seed(self.seed)
        cls = getattr(stable_baselines3, algorithm.upper())
        try:
            self.model = cls(policy, vec_env, seed=self.seed, device="cpu", verbose=0, **kwargs)
        except TypeError as error:
            raise ValueError(f"{algorithm}: bad hyperparameter ({error})") from None
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []

    @property
    def num_timesteps(self) -> int:
        return int(self.model.num_timesteps)

    def learn(self, total_timesteps: int, callback: Callable | None = None,
              progress_bar: bool = False) -> "BaselineAgent":
        """Train for ``total_timesteps`` env steps (SB3 rounds up to whole rollouts).

        ``callback(locals_dict, globals_dict) -> bool`` is called after every vector-env
        step (returning False stops training), like the spiking agents' ``learn``.
        """
        if not isinstance(total_timesteps, (int, np.integer)) or total_timesteps < 0:
            raise ValueError(f"total_timesteps must be an int >= 0, got {total_timesteps!r}")
        from stable_baselines3.common.callbacks import BaseCallback

        agent = self
        bar = None
        if progress_bar:
            from tqdm.auto import tqdm
            bar = tqdm(total=int(total_timesteps), unit="step")

        class _Adapter(BaseCallback):
            def _on_step(self) -> bool:
                for info in self.locals.get("infos", ()):
                    if "episode" in info:
                        agent.episode_returns.append(float(info["episode"]["r"]))
                        agent.episode_lengths.append(int(info["episode"]["l"]))
                if bar is not None:
                    bar.update(self.model.n_envs)
                if callback is None:
                    return True
                return callback(self.locals, globals()) is not False

        self.model.learn(int(total_timesteps), callback=_Adapter(), reset_num_timesteps=False)
        if bar is not None:
            bar.close()
        return self

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """stable-baselines3's ``predict`` (one observation or a batch); never trains."""
        return self.model.predict(observation, state=state, episode_start=episode_start,
                                  deterministic=deterministic)

    def save(self, path: str | os.PathLike) -> str:
        """Write the SB3 ``.zip`` (``.zip`` appended when missing)."""
        path = os.fspath(path)
        if not path.endswith(".zip"):
            path += ".zip"
        self.model.save(path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, algorithm: str, env=None) -> "BaselineAgent":
        """Rebuild from :meth:`save` (predict works without an env)."""
        if algorithm not in BASELINES:
            raise ValueError(f"unknown baseline {algorithm!r}; known: {list(BASELINES)}")
        import stable_baselines3

        agent = cls.__new__(cls)
        agent.model = getattr(stable_baselines3, algorithm.upper()).load(path, env=env,
                                                                        device="cpu")
        agent.algorithm = agent.architecture = algorithm
        agent.seed, agent.env_id, agent.params = 0, None, {}
        agent.episode_returns, agent.episode_lengths = [], []
        return agent
