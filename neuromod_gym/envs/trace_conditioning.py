"""Pavlovian CS -> delay -> US conditioning with a lick/no-lick response (Schultz 1997)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from gymnasium import spaces

from neuromod_gym.envs.base import (
    NeuromodTask,
    check_int,
    check_positive,
    check_probability,
    check_retention,
    ms_range_to_steps,
    ms_to_steps,
)
from neuromod_gym.signals import EVENT_REWARD, OutcomeObserver, VisitNovelty

PHASES = ("iti", "cs2", "cs", "trace", "us")
NO_LICK, LICK = 0, 1
# Bits of the stimulus key: which of CS2, CS, US are on.
CS2_BIT, CS_BIT, US_BIT = 1, 2, 4


class TraceConditioningEnv(NeuromodTask):
    """Pavlovian conditioning: a conditioned stimulus (CS) predicts a reward (US) after a delay.

    The paradigm of Schultz, Dayan & Montague (1997, Science 275:1593): before learning,
    dopamine neurons fire at the unpredicted reward (US); after learning they fire at
    the CS that predicts it and dip when a predicted reward is omitted. Mice and
    monkeys show the learning as *anticipatory licking* between CS and US, which is the
    measured behaviour here. An optional earlier stimulus CS2 predicts the CS (an
    earlier predictor, as in the shift of DA responses to the earliest predictor).

    ## Trial structure (times in ms, each a whole number of ``dt_ms`` steps)

    | phase    | observation      | duration                                                  |
    |----------|------------------|-----------------------------------------------------------|
    | ``iti``  | blank            | jittered, uniform in ``inter_trial_interval_ms`` (default 1000-3000) |
    | ``cs2``  | CS2              | ``cs2_lead_ms`` (only if given; CS2 ends at CS onset)      |
    | ``cs``   | CS               | ``cs_duration_ms`` (default: the whole CS-US interval)     |
    | ``trace``| blank            | ``cs_us_interval_ms - cs_duration_ms`` (0 by default)      |
    | ``us``   | US (blank if omitted) | one step, ``cs_us_interval_ms`` after CS onset        |

    The US comes exactly ``cs_us_interval_ms`` (default 1000 ms) after CS onset, except
    on omission trials (probability ``omission_probability``, default 0.1), when the US
    slot is blank. By default the CS stays on until the US (delay conditioning); with
    ``cs_duration_ms`` shorter than the interval a blank trace interval separates them
    (trace conditioning proper). The trace is then indistinguishable from the
    inter-trial interval in the observation, so only a learner with memory can
    anticipate the US; that is the point of trace conditioning, and the reason it is
    not the default.

    ## Observation

    ``Box(0, 1, (3,), float32)``: ``[CS2 on, CS on, US now]``, each 0 or 1. There is no
    clock in the observation: timing within the CS-US interval must come from the
    learner's own dynamics, as for the animal.

    ## Action Space

    ``Discrete(2)``: 0 = no lick, 1 = lick.

    ## Reward

    ``-lick_cost`` (default 0.02) for every lick, plus ``reward_size`` (default 1.0) on
    the step in which the US arrives if the agent was licking in that step. The US is
    delivered whatever the agent does (the CS-US contingency is Pavlovian, never
    contingent on behaviour); like a head-fixed mouse at a water spout, the agent only
    *collects* the drop by licking when it arrives. The US arrives at the end of a step,
    so collecting it means licking on the last observation before the US: without a
    clock in the observation, that requires licking in anticipation, through the CS.
    (With ``us_requires_lick=False`` the drop is always collected; licking then only
    costs, and a reward-maximising learner stops licking altogether.) Anticipatory
    licking through the whole CS pays for a memoryless learner while
    ``lick_cost < reward_size * (1 - omission_probability) / (cs_us_interval_ms / dt_ms)``
    (defaults: 0.02 < 0.045).

    ## Episode End

    Never terminates. Truncated after ``trials_per_episode`` complete trials (default
    20, about 1,200 steps). The trial counter and the observers' memory belong to the
    *run*, which a plain ``reset()`` continues: it returns the observation of the
    truncating step again (the first ITI step of the next trial). ``reset(seed=...)`` or
    ``reset(options={"new_run": True})`` starts a new run with empty memory. ``t_ms``
    restarts at 0 with every episode.

    ## info

    | key             | meaning                                                          |
    |-----------------|------------------------------------------------------------------|
    | ``novelty``     | :class:`~neuromod_gym.signals.VisitNovelty` of the observed stimulus combination |
    | ``surprise``    | -log p(this observation) under an :class:`~neuromod_gym.signals.OutcomeObserver` |
    |                 | whose context is what the agent has seen: the previous stimulus  |
    |                 | combination, how many steps it had been on, and the combination  |
    |                 | before it (so it learns when the US is due). After learning, the |
    |                 | CS onset (unpredictable, jittered ITI) and an omitted US are     |
    |                 | surprising, a predicted US is not.                               |
    | ``uncertainty`` | entropy (nats) of that observer's prediction, before the observation |
    | ``t_ms``        | ``dt_ms`` per step since the episode began                       |
    | ``events``      | of the new observation: ``"cs2"``, ``"cs"`` (onsets), ``"us"``, ``"omission"`` |
    |                 | (the US was due and did not come), ``"reward"`` (US collected); and |
    |                 | ``"lick"`` if the agent licked during this step                  |
    | ``latent``      | see below (analysis only)                                        |

    ``latent`` (about the action of the step just taken; at reset, the current moment):

    | key                       | meaning                                                 |
    |---------------------------|---------------------------------------------------------|
    | ``trial``                 | int, run-level index of the trial the action belongs to |
    | ``action_phase``          | str, phase of the observation the action was chosen on (``iti``, ``cs2``, ``cs``, ``trace``, ``us``) |
    | ``lick``                  | bool, the agent licked                                  |
    | ``in_cs_us_delay``        | bool, the action fell between CS onset and the US (the anticipatory window) |
    | ``action_ms_from_cs_onset``| float, time of that observation minus CS onset (negative before the CS) |
    | ``action_ms_to_us``       | float, US time minus time of that observation          |
    | ``omission_trial``        | bool, this trial's US is withheld                       |
    | ``us_delivered``          | bool, the US arrived at the end of this step            |
    | ``us_collected``          | bool, and the agent collected it                        |
    | ``iti_ms``                | float, this trial's inter-trial interval                |

    Anticipatory lick rate = mean ``lick`` over steps with ``in_cs_us_delay``; the rate
    outside = mean over the other steps (``iti``/``cs2``/``us`` phases).

    ## Arguments

    | argument                   | default       | meaning                                         |
    |----------------------------|---------------|-------------------------------------------------|
    | ``dt_ms``                  | 50.0          | ms of task time per step                        |
    | ``cs_us_interval_ms``      | 1000.0        | CS onset to US, ms (whole steps, >= 1 step)     |
    | ``cs_duration_ms``         | None          | CS duration, ms; None = until the US (delay conditioning) |
    | ``cs2_lead_ms``            | None          | CS2 onset before CS onset, ms; None = no CS2    |
    | ``omission_probability``   | 0.1           | probability that a trial's US is withheld       |
    | ``inter_trial_interval_ms``| (1000, 3000)  | blank time before each trial's stimuli, ms (>= 1 step) |
    | ``lick_cost``              | 0.02          | cost per lick step (>= 0)                       |
    | ``reward_size``            | 1.0           | value of a collected US (> 0)                   |
    | ``us_requires_lick``       | True          | the US is collected only by licking as it arrives |
    | ``trials_per_episode``     | 20            | truncation length in trials, or None            |
    | ``observer_retention``     | 1.0           | forgetting factor of the surprise observer per visit of a context |
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        dt_ms: float = 50.0,
        cs_us_interval_ms: float = 1000.0,
        cs_duration_ms: float | None = None,
        cs2_lead_ms: float | None = None,
        omission_probability: float = 0.1,
        inter_trial_interval_ms: tuple[float, float] = (1000.0, 3000.0),
        lick_cost: float = 0.02,
        reward_size: float = 1.0,
        us_requires_lick: bool = True,
        trials_per_episode: int | None = 20,
        observer_retention: float = 1.0,
        render_mode: str | None = None,
    ):
        self.dt_ms = check_positive("dt_ms", dt_ms)
        self._interval_steps = ms_to_steps("cs_us_interval_ms", cs_us_interval_ms, self.dt_ms, 1)
        self.cs_us_interval_ms = self._interval_steps * self.dt_ms
        if cs_duration_ms is None:
            self._cs_steps = self._interval_steps
        else:
            self._cs_steps = ms_to_steps("cs_duration_ms", cs_duration_ms, self.dt_ms, 1)
            if self._cs_steps > self._interval_steps:
                raise ValueError(
                    f"cs_duration_ms={cs_duration_ms!r} must not exceed cs_us_interval_ms={cs_us_interval_ms!r}"
                )
        self.cs_duration_ms = self._cs_steps * self.dt_ms
        self._cs2_steps = 0 if cs2_lead_ms is None else ms_to_steps("cs2_lead_ms", cs2_lead_ms, self.dt_ms, 1)
        self.cs2_lead_ms = None if cs2_lead_ms is None else self._cs2_steps * self.dt_ms
        self.omission_probability = check_probability("omission_probability", omission_probability)
        self._iti_steps = ms_range_to_steps("inter_trial_interval_ms", inter_trial_interval_ms, self.dt_ms, 1)
        self.inter_trial_interval_ms = (float(inter_trial_interval_ms[0]), float(inter_trial_interval_ms[1]))
        if isinstance(lick_cost, (bool, np.bool_)) or not isinstance(lick_cost, (int, float, np.number)) or not (
            math.isfinite(lick_cost) and lick_cost >= 0
        ):
            raise ValueError(f"lick_cost must be a finite number >= 0, got {lick_cost!r}")
        self.lick_cost = float(lick_cost)
        self.reward_size = check_positive("reward_size", reward_size)
        if not isinstance(us_requires_lick, (bool, np.bool_)):
            raise ValueError(f"us_requires_lick must be a bool, got {us_requires_lick!r}")
        self.us_requires_lick = bool(us_requires_lick)
        if trials_per_episode is not None:
            trials_per_episode = check_int("trials_per_episode", trials_per_episode, 1)
        self.trials_per_episode = trials_per_episode
        retention = check_retention("observer_retention", observer_retention)
        self.observer_retention = retention
        self._set_render_mode(render_mode)

        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32)

        self._novelty = VisitNovelty()
        # Eight possible stimulus combinations; a small prior so that the observer, once it
        # has seen a few trials, is confident about which of the two or so it expects.
        self._observer = OutcomeObserver(n_outcomes=8, prior=0.1, retention=retention)

    # -- run and trial state -------------------------------------------------------------

    def _start_run(self) -> None:
        self._trial = -1
        self._novelty.clear()
        self._observer.clear()
        self._start_trial()
        # The observer's context: what is on now, for how many steps, and what came before.
        self._key = self._stimulus_key(0)
        self._dwell = 0
        self._previous_key = -1

    def _start_trial(self) -> None:
        rng = self.np_random
        self._trial += 1
        low, high = self._iti_steps
        self._trial_iti_steps = int(rng.integers(low, high + 1))
        self._omission = bool(rng.random() < self.omission_probability)
        self._cs_onset = self._trial_iti_steps + self._cs2_steps  # positions within the trial
        self._us_position = self._cs_onset + self._interval_steps
        self._position = 0

    def _phase(self, position: int) -> str:
        if position < self._trial_iti_steps:
            return "iti"
        if position < self._cs_onset:
            return "cs2"
        if position < self._cs_onset + self._cs_steps:
            return "cs"
        if position < self._us_position:
            return "trace"
        return "us"

    def _stimulus_key(self, position: int) -> int:
        phase = self._phase(position)
        if phase == "cs2":
            return CS2_BIT
        if phase == "cs":
            return CS_BIT
        if phase == "us" and not self._omission:
            return US_BIT
        return 0

    @staticmethod
    def _observation_of(key: int) -> np.ndarray:
        return np.array([key & CS2_BIT, key & CS_BIT, key & US_BIT], dtype=bool).astype(np.float32)

    def _latent(self, position: int, lick: bool, us_delivered: bool, us_collected: bool) -> dict:
        return {
            "trial": self._trial,
            "action_phase": self._phase(position),
            "lick": lick,
            "in_cs_us_delay": self._cs_onset <= position < self._us_position,
            "action_ms_from_cs_onset": (position - self._cs_onset) * self.dt_ms,
            "action_ms_to_us": (self._us_position - position) * self.dt_ms,
            "omission_trial": self._omission,
            "us_delivered": us_delivered,
            "us_collected": us_collected,
            "iti_ms": self._trial_iti_steps * self.dt_ms,
        }

    # -- gymnasium API ------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        new_run = self._begin_reset(seed, options)
        if new_run:
            self._start_run()
            novelty = self._novelty.visit(self._key)
        else:
            # Same moment as the truncating step, whose observation was already counted.
            novelty = self._novelty.peek(self._key)
        self._episode_trials = 0
        self._start_clock()
        latent = self._latent(self._position, False, False, False)
        return self._observation_of(self._key), self._info(novelty, 0.0, 0.0, (), latent)

    def step(self, action: Any):
        lick = self._check_action(action) == LICK
        self._require_run()
        action_position = self._position
        self._position += 1
        us_delivered = self._position == self._us_position and not self._omission
        us_collected = us_delivered and (lick or not self.us_requires_lick)
        reward = (self.reward_size if us_collected else 0.0) - (self.lick_cost if lick else 0.0)
        latent = self._latent(action_position, lick, us_delivered, us_collected)

        events: list[str] = ["lick"] if lick else []
        if self._position == self._us_position:
            events.append("us" if us_delivered else "omission")
        if us_collected:
            events.append(EVENT_REWARD)
        truncated = False
        if self._position > self._us_position:
            # The step after the US slot opens the next trial (its first ITI step).
            self._episode_trials += 1
            truncated = self.trials_per_episode is not None and self._episode_trials >= self.trials_per_episode
            self._start_trial()
        elif self._cs2_steps and self._position == self._trial_iti_steps:
            events.append("cs2")
        elif self._position == self._cs_onset:
            events.append("cs")

        new_key = self._stimulus_key(self._position)
        context = (self._key, self._dwell, self._previous_key)
        surprise, uncertainty = self._observer.observe(context, new_key)
        if new_key == self._key:
            self._dwell += 1
        else:
            self._previous_key, self._key, self._dwell = self._key, new_key, 0
        self._advance_clock()
        novelty = self._novelty.visit(new_key)
        info = self._info(novelty, surprise, uncertainty, tuple(events), latent)
        return self._observation_of(new_key), float(reward), False, truncated, info
