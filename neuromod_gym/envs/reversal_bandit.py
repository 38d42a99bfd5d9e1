"""Probabilistic k-armed bandit with unsignalled reversals (one step = one trial)."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from neuromod_gym.envs.base import NeuromodTask, check_int, check_positive, check_probability, check_retention
from neuromod_gym.signals import EVENT_REWARD, OutcomeObserver, VisitNovelty

OBSERVATION_MODES = ("previous", "constant")


class ReversalBanditEnv(NeuromodTask):
    """Probabilistic k-armed bandit whose best arm changes without any signal.

    Each step is one trial: the agent picks an arm and gets reward 1 with that arm's
    probability (default 0.8 for the best arm, 0.2 for the other). Every
    ``reversal_every_trials`` trials (or, in hazard mode, with probability
    ``reversal_hazard`` before each trial) the best arm changes, and nothing in the
    observation says so: the agent can only notice that its arm stopped paying. This is
    the probabilistic reversal-learning task of Behrens et al. (2007, Nat Neurosci
    10:1214) and of the reversal literature digested in LEARNING_NOTES.md; learning
    rates should rise after a reversal (Yu & Dayan 2005: NE = unexpected uncertainty).

    ## Observation

    ``observation_mode="previous"`` (default): ``Box(0, 1, (n_arms + 1,), float32)``

    | index       | meaning                                                     |
    |-------------|-------------------------------------------------------------|
    | 0..k-1      | one-hot of the arm chosen on the previous trial (all 0 at the start of a run) |
    | k           | reward of the previous trial (0 or 1)                       |

    so every learner, spiking or deep RL, sees the same information (the last choice
    and its outcome, enough for win-stay/lose-shift; longer memory is the learner's).
    ``observation_mode="constant"``: ``Box(0, 1, (1,), float32)`` always ``[1.0]`` (a
    fixation light): all information then arrives through the reward.

    ## Action Space

    ``Discrete(n_arms)``: the arm to pull.

    ## Reward

    1.0 with the chosen arm's current reward probability, else 0.0.

    ## Episode End

    Never terminates. Truncated after ``trials_per_episode`` trials (default 1000, so
    the 20,000-trial benchmark is 20 episodes; ``None`` = never truncate).

    **Runs and episodes.** The reversal schedule, the current arm assignment, the
    previous choice shown in the observation and the observers' memory belong to the
    *run*, which a plain ``reset()`` continues: it returns the same observation as the
    truncating step, and the next trial proceeds exactly as if no reset had happened.
    So cutting a long run into episodes changes nothing the agent experiences except the
    truncation flag (which RL libraries use to bootstrap), and "reversal every 100
    trials" keeps meaning every 100 trials of the run. ``reset(seed=...)`` or
    ``reset(options={"new_run": True})`` starts a new run: trial 0, fresh random arm
    assignment, empty memory. ``t_ms`` restarts at 0 with every episode.

    ## info

    | key           | meaning                                                        |
    |---------------|----------------------------------------------------------------|
    | ``novelty``   | :class:`~neuromod_gym.signals.VisitNovelty` of the observation  |
    | ``surprise``  | -log p(reward outcome | chosen arm) under an                   |
    |               | :class:`~neuromod_gym.signals.OutcomeObserver` (context = chosen |
    |               | arm, outcome = rewarded or not, Laplace prior, forgetting       |
    |               | ``observer_retention`` per visit of that arm). It rises in the  |
    |               | trials after a reversal because the chosen arm's outcomes stop  |
    |               | matching its history; it knows nothing of the hidden reversal.  |
    | ``uncertainty`` | entropy (nats) of that observer's prediction for the chosen arm, before the outcome |
    | ``t_ms``      | ``dt_ms`` per trial since the episode began                    |
    | ``events``    | ``("choice",)`` plus ``"reward"`` when rewarded; ``()`` at reset |
    | ``latent``    | see below (analysis only)                                      |

    ``latent`` (about the trial just played; at reset, about the next trial):

    | key                        | meaning                                          |
    |----------------------------|--------------------------------------------------|
    | ``best_arm``               | int, the arm with the highest reward probability on this trial |
    | ``trial``                  | int, index of this trial in the run (0-based)    |
    | ``reversal``               | bool, the best arm changed at the start of this trial (so this is the first trial under the new probabilities) |
    | ``trials_since_reversal``  | int, 0 on a reversal trial (counted from the run start before the first reversal) |
    | ``chosen_arm``             | int, the arm pulled (-1 at reset)                |
    | ``chosen_arm_probability`` | float, its reward probability (0.0 at reset)     |
    | ``optimal_choice``         | bool, the chosen arm was the best arm            |

    ## Arguments

    | argument                | default      | meaning                                           |
    |-------------------------|--------------|---------------------------------------------------|
    | ``reward_probabilities``| (0.8, 0.2)   | reward probability of each arm (length = number of arms, >= 2, a unique maximum) |
    | ``reversal_every_trials``| 100         | trials between reversals (int >= 1), or ``None``  |
    | ``reversal_hazard``     | None         | per-trial reversal probability (hazard mode); requires ``reversal_every_trials=None`` |
    | ``trials_per_episode``  | 1000         | truncation length in trials, or ``None``          |
    | ``observation_mode``    | "previous"   | ``"previous"`` or ``"constant"`` (see Observation) |
    | ``randomize_arms``      | True         | assign the probabilities to arms in a random order at each new run, so no arm is best by construction |
    | ``observer_retention``  | 0.9          | forgetting factor of the surprise observer, per visit of an arm (memory ~ 1 / (1 - r) visits) |
    | ``dt_ms``               | 100.0        | ms of task time per trial                         |

    A reversal makes a different arm the best: the best arm swaps its probability with
    an arm drawn uniformly from the others (for two arms: the arms swap). With neither
    ``reversal_every_trials`` nor ``reversal_hazard`` the bandit is stationary.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        reward_probabilities: tuple[float, ...] = (0.8, 0.2),
        reversal_every_trials: int | None = 100,
        reversal_hazard: float | None = None,
        trials_per_episode: int | None = 1000,
        observation_mode: str = "previous",
        randomize_arms: bool = True,
        observer_retention: float = 0.9,
        dt_ms: float = 100.0,
        render_mode: str | None = None,
    ):
        try:
            probabilities = [check_probability("reward_probabilities", p) for p in reward_probabilities]
        except TypeError:
            raise ValueError(f"reward_probabilities must be a sequence of probabilities, got {reward_probabilities!r}") from None
        if len(probabilities) < 2:
            raise ValueError(f"reward_probabilities needs at least 2 arms, got {reward_probabilities!r}")
        if sorted(probabilities)[-1] == sorted(probabilities)[-2]:
            raise ValueError(
                f"reward_probabilities must have a unique maximum so that the best arm is defined, got {reward_probabilities!r}"
            )
        if reversal_every_trials is not None:
            reversal_every_trials = check_int("reversal_every_trials", reversal_every_trials, 1)
        if reversal_hazard is not None:
            if reversal_every_trials is not None:
                raise ValueError(
                    "reversal_hazard selects random-hazard reversals; pass reversal_every_trials=None with it "
                    f"(got reversal_every_trials={reversal_every_trials!r}, reversal_hazard={reversal_hazard!r})"
                )
            reversal_hazard = check_probability("reversal_hazard", reversal_hazard)
        if trials_per_episode is not None:
            trials_per_episode = check_int("trials_per_episode", trials_per_episode, 1)
        if observation_mode not in OBSERVATION_MODES:
            raise ValueError(f"observation_mode must be one of {OBSERVATION_MODES}, got {observation_mode!r}")
        if not isinstance(randomize_arms, (bool, np.bool_)):
            raise ValueError(f"randomize_arms must be a bool, got {randomize_arms!r}")
        retention = check_retention("observer_retention", observer_retention)
        self._set_render_mode(render_mode)

        self.reward_probabilities = tuple(probabilities)
        self.n_arms = len(probabilities)
        self.reversal_every_trials = reversal_every_trials
        self.reversal_hazard = reversal_hazard
        self.trials_per_episode = trials_per_episode
        self.observation_mode = observation_mode
        self.randomize_arms = bool(randomize_arms)
        self.observer_retention = retention
        self.dt_ms = check_positive("dt_ms", dt_ms)

        self.action_space = spaces.Discrete(self.n_arms)
        size = self.n_arms + 1 if observation_mode == "previous" else 1
        self.observation_space = spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)

        self._novelty = VisitNovelty()
        # Binary outcome (rewarded or not) per chosen arm; the Laplace prior (1, 1) makes
        # the first pull of an arm cost log 2 nats whatever happens.
        self._observer = OutcomeObserver(n_outcomes=2, prior=1.0, retention=retention)

    # -- run state ----------------------------------------------------------------------

    def _start_run(self) -> None:
        order = self.np_random.permutation(self.n_arms) if self.randomize_arms else np.arange(self.n_arms)
        self._arm_probabilities = np.asarray(self.reward_probabilities, dtype=np.float64)[order]
        self._trial = 0
        self._trials_since_reversal = 0
        self._previous_arm = -1
        self._previous_reward = 0.0
        self._novelty.clear()
        self._observer.clear()

    @property
    def best_arm(self) -> int:
        """The arm with the highest reward probability now (hidden from the agent)."""
        return int(np.argmax(self._arm_probabilities))

    def _reversal_due(self) -> bool:
        if self._trial == 0:
            return False
        if self.reversal_every_trials is not None:
            return self._trial % self.reversal_every_trials == 0
        if self.reversal_hazard is not None:
            return bool(self.np_random.random() < self.reversal_hazard)
        return False

    def _reverse(self) -> None:
        best = self.best_arm
        others = [arm for arm in range(self.n_arms) if arm != best]
        new_best = others[int(self.np_random.integers(len(others)))]
        probabilities = self._arm_probabilities
        probabilities[best], probabilities[new_best] = probabilities[new_best], probabilities[best]

    def _observation(self) -> np.ndarray:
        if self.observation_mode == "constant":
            return np.ones(1, dtype=np.float32)
        observation = np.zeros(self.n_arms + 1, dtype=np.float32)
        if self._previous_arm >= 0:
            observation[self._previous_arm] = 1.0
        observation[-1] = self._previous_reward
        return observation

    @staticmethod
    def _key(observation: np.ndarray) -> tuple[int, ...]:
        return tuple(int(round(x)) for x in observation)

    # -- gymnasium API ------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        new_run = self._begin_reset(seed, options)
        observation = self._observation() if not new_run else None
        if new_run:
            self._start_run()
            observation = self._observation()
            novelty = self._novelty.visit(self._key(observation))
        else:
            # Same moment as the truncating step: the observation was already counted.
            novelty = self._novelty.peek(self._key(observation))
        self._episode_trials = 0
        self._start_clock()
        latent = {
            "best_arm": self.best_arm,
            "trial": self._trial,
            "reversal": False,
            "trials_since_reversal": self._trials_since_reversal,
            "chosen_arm": -1,
            "chosen_arm_probability": 0.0,
            "optimal_choice": False,
        }
        return observation, self._info(novelty, 0.0, 0.0, (), latent)

    def step(self, action: Any):
        arm = self._check_action(action)
        self._require_run()
        reversal = self._reversal_due()
        if reversal:
            self._reverse()
            self._trials_since_reversal = 0
        probability = float(self._arm_probabilities[arm])
        rewarded = bool(self.np_random.random() < probability)
        reward = 1.0 if rewarded else 0.0
        surprise, uncertainty = self._observer.observe(arm, int(rewarded))
        latent = {
            "best_arm": self.best_arm,
            "trial": self._trial,
            "reversal": reversal,
            "trials_since_reversal": self._trials_since_reversal,
            "chosen_arm": arm,
            "chosen_arm_probability": probability,
            "optimal_choice": arm == self.best_arm,
        }
        self._previous_arm, self._previous_reward = arm, reward
        self._trial += 1
        self._trials_since_reversal += 1
        self._episode_trials += 1
        self._advance_clock()
        observation = self._observation()
        novelty = self._novelty.visit(self._key(observation))
        events = ("choice", EVENT_REWARD) if rewarded else ("choice",)
        truncated = self.trials_per_episode is not None and self._episode_trials >= self.trials_per_episode
        return observation, reward, False, truncated, self._info(novelty, surprise, uncertainty, events, latent)

