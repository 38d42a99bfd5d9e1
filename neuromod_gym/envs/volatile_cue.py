"""Cue-guided choice in a volatile world: expected vs unexpected uncertainty (Yu & Dayan 2005)."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from neuromod_gym.envs.base import NeuromodTask, check_finite, check_int, check_positive
from neuromod_gym.signals import EVENT_EPISODE_END, EVENT_REWARD, VisitNovelty

EVENT_CUE = "cue"
EVENT_FEEDBACK = "feedback"
SWITCH_MODES = ("periodic", "hazard")


class ContextObserver:
    """Exact Bayesian observer of the hidden context and the cue validity.

    The observer knows the task's structure: in context c the target equals cue c's
    pointer with an unknown but fixed validity g; between trials the context switches
    with probability ``hazard`` to one of the other contexts, uniformly. It keeps the
    joint posterior over (c, g) with g on a grid of ``n_validity_levels`` values in
    [0.5, 0.995] (uniform prior), so it learns the validity (the expected uncertainty)
    and detects switches (the unexpected uncertainty) the way Yu & Dayan's ideal
    observer does:

        predict:  p(c, g) <- (1 - h) p(c, g) + h / (K - 1) sum_{c' != c} p(c', g)
        outcome:  p(y | cues) = sum_{c, g} p(c, g) [g if y == cue_c else 1 - g]
        update:   p(c, g) <- p(c, g) [g if y == cue_c else 1 - g] / p(y | cues)
    """

    def __init__(self, n_cues: int, hazard: float, n_validity_levels: int = 100):
        self.n_cues = n_cues
        self.hazard = hazard
        self.validity_levels = np.linspace(0.5, 0.995, n_validity_levels)
        self.clear()

    def clear(self) -> None:
        self.posterior = np.full((self.n_cues, len(self.validity_levels)), 1.0 / (self.n_cues * len(self.validity_levels)))
        self._fresh = True

    def next_trial(self) -> None:
        """Apply the switch prior between two trials (not before the first one)."""
        if self._fresh:
            self._fresh = False
            return
        if self.n_cues > 1:
            per_validity = self.posterior.sum(axis=0, keepdims=True)
            self.posterior = (1.0 - self.hazard) * self.posterior + self.hazard / (self.n_cues - 1) * (
                per_validity - self.posterior
            )

    def _likelihood(self, pointers: np.ndarray, target: int) -> np.ndarray:
        agrees = (pointers == target)[:, None]
        return np.where(agrees, self.validity_levels[None, :], 1.0 - self.validity_levels[None, :])

    def probability(self, pointers: np.ndarray, target: int) -> float:
        """Predictive probability that the target is ``target`` (+1 or -1) given the cues."""
        return float(np.sum(self.posterior * self._likelihood(pointers, target)))

    def uncertainty(self, pointers: np.ndarray) -> float:
        """Entropy (nats) of the predicted target, given the cues shown."""
        p = self.probability(pointers, 1)
        return float(-sum(x * math.log(x) for x in (p, 1.0 - p) if x > 0.0))

    def observe(self, pointers: np.ndarray, target: int) -> float:
        """Surprise (nats) of ``target``, then update the posterior."""
        joint = self.posterior * self._likelihood(pointers, target)
        evidence = float(joint.sum())
        self.posterior = joint / evidence
        return -math.log(evidence)

    def expected_validity(self) -> float:
        """Posterior mean of the cue validity."""
        return float(self.posterior.sum(axis=0) @ self.validity_levels)

    def context_belief(self) -> np.ndarray:
        """Posterior probability of each context (= each cue being the valid one)."""
        return self.posterior.sum(axis=1)


class VolatileCueEnv(NeuromodTask):
    """Follow the cue that is currently valid; which cue that is changes without warning.

    A generalised Posner task after Yu & Dayan (2005, Neuron 46:681, "Uncertainty,
    neuromodulation, and attention"). Each trial shows ``n_cues`` cues, each pointing
    left or right. In the current hidden context one of them is the valid cue: the
    target side equals its pointer with probability ``cue_validity`` (gamma); the other
    cues point left or right at random. The agent answers left or right and is rewarded
    when it names the target side. Gamma is fixed, so the 1 - gamma errors of the best
    policy are *expected* uncertainty (ACh in Yu & Dayan); the context switches
    unsignalled to another context, making a different cue valid (*unexpected*
    uncertainty, NE). After a switch the old cue is right only half the time, so an
    agent following it drops from gamma to 0.5 accuracy until it finds the new cue.

    ## Observation
    | index | meaning | values |
    |---|---|---|
    | i (0 .. n_cues-1) | pointer of cue i: -1 = left, +1 = right | {-1, +1} |

    ``Box(-1, 1, (n_cues,), float32)``. The context and the valid cue are not observed.

    ## Action
    ``Discrete(2)``: 0 = respond "left" (target -1), 1 = respond "right" (target +1).

    ## Reward
    | response | reward |
    |---|---|
    | names the target side | ``correct_reward`` (1.0) |
    | otherwise | ``error_reward`` (0.0) |

    The feedback reveals the target side (the agent knows its response and whether it
    was right), which is what the observer learns from.

    ## Episode end
    One episode is one trial: ``reset`` shows the cues, ``step`` takes the response and
    ends the episode (``terminated=True``; never truncated). The returned observation
    after the response is the same cue display. A *run* begins at ``reset(seed=...)``
    (or the very first ``reset()``): the trial counter, the context (drawn uniformly) and
    the observers' memories start afresh; every later plain ``reset()`` is the next
    trial of the same run, so the context and the memories carry over (this is what
    vector-env autoreset does).

    Switches: ``switch_mode="periodic"``: the context changes every
    ``trials_per_context`` trials (at trials N, 2N, ...); ``"hazard"``: before each trial
    (but the first) it changes with probability 1 / ``trials_per_context``. A switch
    always moves to a different context, chosen uniformly.

    ## info
    | key | meaning |
    |---|---|
    | ``novelty`` | :class:`~neuromod_gym.signals.VisitNovelty` of the cue display (the tuple of pointers), counted at reset; at the response step, the novelty of the display as it was seen |
    | ``surprise`` | -log p(target side) under :class:`ContextObserver`, the exact Bayesian observer of context and validity (it assumes a constant switch hazard 1 / ``trials_per_context``, exact for ``"hazard"`` mode). 0 at reset. It rises in the trials after a switch, when the cue it trusts starts to fail |
    | ``uncertainty`` | entropy (nats) of that observer's prediction of the target side for the cues shown (the same value at the cue and the response of a trial): once the context is known it is H(gamma_hat), the expected uncertainty, larger for lower gamma |
    | ``t_ms`` | ms since the trial began: 0 at the cue, ``dt_ms`` at the response |
    | ``events`` | ``"cue"`` at reset; ``"feedback"``, ``"reward"`` (when correct and ``correct_reward`` != 0), ``"episode_end"`` at the response |
    | ``latent`` | ``context`` (int: context id), ``valid_cue`` (int: index of the valid cue, equal to the context id), ``trials_since_switch`` (int, 0 on the first trial of a context), ``switched`` (bool: this is the first trial of a new context, not the run's first), ``trial`` (0-based trial index in the run), ``target`` (int: 0 = left, 1 = right), ``cue_followed`` (bool: the valid cue pointed at the target on this trial) |

    ## Arguments
    | name | default | unit / meaning |
    |---|---|---|
    | ``n_cues`` | 3 | cues per trial (= number of contexts), >= 2 |
    | ``cue_validity`` | 0.8 | gamma: P(target = valid cue's pointer), in (0.5, 1] |
    | ``trials_per_context`` | 100 | trials per context (periodic) or mean context length (hazard), >= 2 |
    | ``switch_mode`` | ``"periodic"`` | ``"periodic"`` or ``"hazard"`` |
    | ``dt_ms`` | 500.0 | ms from cue onset to response and feedback |
    | ``correct_reward`` | 1.0 | reward for a correct response |
    | ``error_reward`` | 0.0 | reward for an error (must differ from ``correct_reward``) |
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        n_cues: int = 3,
        cue_validity: float = 0.8,
        trials_per_context: int = 100,
        switch_mode: str = "periodic",
        dt_ms: float = 500.0,
        correct_reward: float = 1.0,
        error_reward: float = 0.0,
    ):
        self.n_cues = check_int("n_cues", n_cues, 2)
        if isinstance(cue_validity, bool) or not isinstance(cue_validity, (int, float, np.number)) or not (
            0.5 < float(cue_validity) <= 1.0
        ):
            raise ValueError(f"cue_validity must lie in (0.5, 1], got {cue_validity!r}")
        self.cue_validity = float(cue_validity)
        self.trials_per_context = check_int("trials_per_context", trials_per_context, 2)
        if switch_mode not in SWITCH_MODES:
            raise ValueError(f"switch_mode must be one of {SWITCH_MODES}, got {switch_mode!r}")
        self.switch_mode = switch_mode
        self.dt_ms = check_positive("dt_ms", dt_ms)
        self.correct_reward = check_finite("correct_reward", correct_reward)
        self.error_reward = check_finite("error_reward", error_reward)
        if self.correct_reward == self.error_reward:
            raise ValueError("error_reward must differ from correct_reward, or feedback carries no information")
        self.hazard = 1.0 / self.trials_per_context

        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(self.n_cues,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)

        self.observer = ContextObserver(self.n_cues, self.hazard)
        self.novelty_memory = VisitNovelty()
        self._trial = -1
        self._context = 0
        self._trials_since_switch = 0
        self._switched = False
        self._pointers = np.ones(self.n_cues, dtype=np.int64)
        self._target = 1
        self._display_novelty = 1.0
        self._trial_open = False

    def _latent(self) -> dict[str, Any]:
        return {
            "context": int(self._context),
            "valid_cue": int(self._context),
            "trials_since_switch": int(self._trials_since_switch),
            "switched": bool(self._switched),
            "trial": int(self._trial),
            "target": int(self._target > 0),
            "cue_followed": bool(self._pointers[self._context] == self._target),
        }

    def _observation(self) -> np.ndarray:
        return self._pointers.astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        new_run = self._begin_reset(seed, options)
        rng = self.np_random
        if new_run:
            self._trial = -1
            self._context = int(rng.integers(self.n_cues))
            self._trials_since_switch = -1
            self.observer.clear()
            self.novelty_memory.clear()
        self._trial += 1
        self._trials_since_switch += 1
        if self._trial > 0:
            if self.switch_mode == "periodic":
                switch = self._trial % self.trials_per_context == 0
            else:
                switch = bool(rng.random() < self.hazard)
        else:
            switch = False
        self._switched = switch
        if switch:
            # Move to one of the other contexts, uniformly.
            self._context = int((self._context + 1 + rng.integers(self.n_cues - 1)) % self.n_cues)
            self._trials_since_switch = 0
        # Draw the trial: target side, the valid cue agrees with it with prob. gamma,
        # the other cues are independent coin flips.
        self._target = 1 if rng.random() < 0.5 else -1
        self._pointers = np.where(rng.random(self.n_cues) < 0.5, 1, -1).astype(np.int64)
        self._pointers[self._context] = self._target if rng.random() < self.cue_validity else -self._target
        self._trial_open = True
        self._start_clock()
        self.observer.next_trial()
        self._display_novelty = self.novelty_memory.visit(tuple(int(p) for p in self._pointers))
        info = self._info(
            novelty=self._display_novelty,
            surprise=0.0,
            uncertainty=self.observer.uncertainty(self._pointers),
            events=(EVENT_CUE,),
            latent=self._latent(),
        )
        return self._observation(), info

    def step(self, action: Any):
        if not self._trial_open:
            raise RuntimeError("the trial is over (or never began): call reset() before step()")
        action = self._check_action(action)
        response = 1 if action == 1 else -1
        correct = response == self._target
        # The observer learns the target from what the agent knows: its response and the feedback.
        uncertainty = self.observer.uncertainty(self._pointers)
        surprise = self.observer.observe(self._pointers, response if correct else -response)
        self._advance_clock()
        self._trial_open = False
        reward = self.correct_reward if correct else self.error_reward
        events = [EVENT_FEEDBACK]
        if correct and self.correct_reward != 0.0:
            events.append(EVENT_REWARD)
        events.append(EVENT_EPISODE_END)
        info = self._info(self._display_novelty, surprise, uncertainty, events=tuple(events), latent=self._latent())
        return self._observation(), float(reward), True, False, info
