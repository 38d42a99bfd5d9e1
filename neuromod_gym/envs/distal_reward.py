"""Instrumental conditioning with a distal reward (Izhikevich 2007), as a Gymnasium task."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from neuromod_gym.envs.base import (
    NeuromodTask,
    check_int,
    check_positive,
    check_retention,
    ms_range_to_steps,
)
from neuromod_gym.signals import EVENT_REWARD, OutcomeObserver, VisitNovelty


NO_CUE = -1


class DistalRewardEnv(NeuromodTask):
    """A cue among several, a response, and a reward that comes only seconds later.

    Follows the instrumental-conditioning / distal-reward setting of Izhikevich (2007,
    "Solving the distal reward problem through linkage of STDP and dopamine signaling",
    Cereb Cortex 17:2443): cues arrive every few hundred ms in random order; one
    cue-response pairing is rewarded, but the reward is delivered only after a random
    delay (default 1-3 s) during which further cues arrive and further responses are
    made. To learn, the agent must credit the reward to a pairing that happened many
    trials earlier (eligibility traces bridging seconds), not to what it just did.

    ## Trial structure

    A trial is one *cue step* (the observation shows the cue; the action taken on it is
    the response) followed by an inter-trial interval of blank steps drawn uniformly
    from ``inter_trial_interval_ms`` (default 100-300 ms = 1-3 steps of 100 ms), so a
    trial costs 2-4 steps on average 3. If the response to the rewarded cue is the
    rewarded response, one reward is scheduled ``d`` steps later, ``d * dt_ms`` drawn
    uniformly among the whole steps inside ``reward_delay_ms``; by then 3-10 more
    trials (defaults) have happened. Any other pairing is never rewarded. Pending
    rewards are independent: two rewarded pairings give two rewards.

    ## Observation

    ``Box(0, 1, (n_cues,), float32)``: one-hot of the cue on a cue step, all zeros on
    a blank (inter-trial) step. Rewards are not shown in the observation (they are the
    reward).

    ## Action Space

    ``Discrete(n_responses)``: the response. Only the action taken on a cue step counts
    as a response; actions on blank steps have no effect (the agent may do anything
    while it waits).

    ## Reward

    ``reward_size`` (default 1.0) times the number of scheduled rewards falling due
    this step, else 0.

    ## Episode End

    Never terminates. Truncated when ``trials_per_episode`` trials (default 200, about
    600 steps) are complete. The rewarded pairing, pending rewards, trial counter and
    observers' memory belong to the *run*, which a plain ``reset()`` continues: it
    returns the observation of the truncating step again (same moment) and pending
    rewards still arrive on time in the next episode, so a bootstrapping learner's
    value at the cut is exactly right. ``reset(seed=...)`` or
    ``reset(options={"new_run": True})`` starts a new run (new rewarded pairing unless
    fixed, nothing pending). ``t_ms`` restarts at 0 with every episode.

    ## info

    | key             | meaning                                                        |
    |-----------------|----------------------------------------------------------------|
    | ``novelty``     | :class:`~neuromod_gym.signals.VisitNovelty` of the observed cue (blank counts as one "cue") |
    | ``surprise``    | -log p(reward arrives this step) under an                     |
    |                 | :class:`~neuromod_gym.signals.OutcomeObserver` of the per-step |
    |                 | reward rate (binary outcome, Laplace prior, forgetting         |
    |                 | ``observer_retention`` per step). The observer does not know the |
    |                 | delayed contingency (learning it is the task), so rewards are  |
    |                 | surprising in proportion to how rare they are.                 |
    | ``uncertainty`` | entropy (nats) of that observer's prediction, before the outcome |
    | ``t_ms``        | ``dt_ms`` per step since the episode began                     |
    | ``events``      | ``"response"`` (the action was a response to a cue), ``"reward"``, ``"cue"`` (the new observation shows a cue) |
    | ``latent``      | see below (analysis only)                                      |

    ``latent`` (about the step just taken; at reset, about the cue now shown):

    | key                     | meaning                                                |
    |-------------------------|--------------------------------------------------------|
    | ``trial``               | int, run-level index of the trial this step belongs to |
    | ``cue``                 | int, the cue responded to on this step (-1: blank step) |
    | ``response``            | int, the response (-1: blank step)                     |
    | ``rewarded_pairing``    | bool, (cue, response) was the rewarded pairing         |
    | ``scheduled_delay_ms``  | float, delay of the reward it scheduled (0.0 if none)  |
    | ``rewards_delivered``   | int, rewards that fell due this step                   |
    | ``pending_rewards``     | int, rewards scheduled but not yet delivered           |
    | ``rewarded_cue``        | int, the cue of the rewarded pairing                   |
    | ``rewarded_response``   | int, the response of the rewarded pairing              |

    P(rewarded response | rewarded cue) per trial = mean of ``rewarded_pairing`` over
    steps with ``cue == rewarded_cue``; compare with the same rate on the other cues to
    check that a learner is cue-specific rather than biased towards one response.

    ## Arguments

    | argument                   | default          | meaning                                     |
    |----------------------------|------------------|---------------------------------------------|
    | ``n_cues``                 | 4                | number of distinct cues (>= 1)              |
    | ``n_responses``            | 2                | number of responses (>= 2)                  |
    | ``reward_delay_ms``        | (1000, 3000)     | reward delay range after the rewarded pairing, ms (>= 1 step) |
    | ``inter_trial_interval_ms``| (100, 300)       | blank time after each cue step, ms (0 allowed: back-to-back cues) |
    | ``dt_ms``                  | 100.0            | ms of task time per step                    |
    | ``rewarded_cue``           | None             | cue of the rewarded pairing; None = drawn at each new run |
    | ``rewarded_response``      | None             | response of the rewarded pairing; None = drawn at each new run |
    | ``reward_size``            | 1.0              | reward per delivered reward (> 0)           |
    | ``trials_per_episode``     | 200              | truncation length in trials, or None        |
    | ``observer_retention``     | 0.99             | forgetting factor of the surprise observer per step (memory ~ 100 steps) |

    Set ``reward_delay_ms=(8000, 10000)`` for the control in which the delay is too long
    for eligibility traces of about a second to bridge.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        n_cues: int = 4,
        n_responses: int = 2,
        reward_delay_ms: tuple[float, float] = (1000.0, 3000.0),
        inter_trial_interval_ms: tuple[float, float] = (100.0, 300.0),
        dt_ms: float = 100.0,
        rewarded_cue: int | None = None,
        rewarded_response: int | None = None,
        reward_size: float = 1.0,
        trials_per_episode: int | None = 200,
        observer_retention: float = 0.99,
        render_mode: str | None = None,
    ):
        self.n_cues = check_int("n_cues", n_cues, 1)
        self.n_responses = check_int("n_responses", n_responses, 2)
        self.dt_ms = check_positive("dt_ms", dt_ms)
        self._delay_steps = ms_range_to_steps("reward_delay_ms", reward_delay_ms, self.dt_ms, 1)
        self._iti_steps = ms_range_to_steps("inter_trial_interval_ms", inter_trial_interval_ms, self.dt_ms, 0)
        self.reward_delay_ms = (float(reward_delay_ms[0]), float(reward_delay_ms[1]))
        self.inter_trial_interval_ms = (float(inter_trial_interval_ms[0]), float(inter_trial_interval_ms[1]))
        if rewarded_cue is not None:
            rewarded_cue = check_int("rewarded_cue", rewarded_cue, 0)
            if rewarded_cue >= self.n_cues:
                raise ValueError(f"rewarded_cue must be < n_cues={self.n_cues}, got {rewarded_cue!r}")
        if rewarded_response is not None:
            rewarded_response = check_int("rewarded_response", rewarded_response, 0)
            if rewarded_response >= self.n_responses:
                raise ValueError(f"rewarded_response must be < n_responses={self.n_responses}, got {rewarded_response!r}")
        self.rewarded_cue_setting = rewarded_cue
        self.rewarded_response_setting = rewarded_response
        self.reward_size = check_positive("reward_size", reward_size)
        if trials_per_episode is not None:
            trials_per_episode = check_int("trials_per_episode", trials_per_episode, 1)
        self.trials_per_episode = trials_per_episode
        retention = check_retention("observer_retention", observer_retention)
        self.observer_retention = retention
        self._set_render_mode(render_mode)

        self.action_space = spaces.Discrete(self.n_responses)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(self.n_cues,), dtype=np.float32)

        self._novelty = VisitNovelty()
        self._observer = OutcomeObserver(n_outcomes=2, prior=1.0, retention=retention)

    # -- run state ----------------------------------------------------------------------

    def _start_run(self) -> None:
        rng = self.np_random
        self.rewarded_cue = (
            self.rewarded_cue_setting if self.rewarded_cue_setting is not None else int(rng.integers(self.n_cues))
        )
        self.rewarded_response = (
            self.rewarded_response_setting
            if self.rewarded_response_setting is not None
            else int(rng.integers(self.n_responses))
        )
        self._step_index = 0  # steps since the run began; reward due times are in these units
        self._pending_due: list[int] = []
        self._trial = -1
        self._novelty.clear()
        self._observer.clear()
        self._start_trial()

    def _start_trial(self) -> None:
        self._trial += 1
        self._shown_cue = int(self.np_random.integers(self.n_cues))
        low, high = self._iti_steps
        self._trial_iti_steps = int(self.np_random.integers(low, high + 1))
        self._iti_remaining = 0

    def _observation(self) -> np.ndarray:
        observation = np.zeros(self.n_cues, dtype=np.float32)
        if self._shown_cue != NO_CUE:
            observation[self._shown_cue] = 1.0
        return observation

    def _latent(self, cue: int, response: int, rewarded_pairing: bool, delay_ms: float, delivered: int) -> dict:
        return {
            "trial": self._trial,
            "cue": cue,
            "response": response,
            "rewarded_pairing": rewarded_pairing,
            "scheduled_delay_ms": delay_ms,
            "rewards_delivered": delivered,
            "pending_rewards": len(self._pending_due),
            "rewarded_cue": self.rewarded_cue,
            "rewarded_response": self.rewarded_response,
        }

    # -- gymnasium API ------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        new_run = self._begin_reset(seed, options)
        if new_run:
            self._start_run()
        observation = self._observation()
        key = self._shown_cue
        # A continued run resumes at the moment of the truncating step, whose observation
        # was already counted as a visit.
        novelty = self._novelty.visit(key) if new_run else self._novelty.peek(key)
        events = ("cue",) if new_run else ()
        self._episode_trials = 0
        self._start_clock()
        latent = self._latent(NO_CUE, -1, False, 0.0, 0)
        return observation, self._info(novelty, 0.0, 0.0, events, latent)

    def step(self, action: Any):
        response = self._check_action(action)
        self._require_run()
        rng = self.np_random
        cue = self._shown_cue
        events: list[str] = []
        rewarded_pairing, delay_ms = False, 0.0
        if cue != NO_CUE:
            events.append("response")
            rewarded_pairing = cue == self.rewarded_cue and response == self.rewarded_response
            if rewarded_pairing:
                low, high = self._delay_steps
                delay_steps = int(rng.integers(low, high + 1))
                self._pending_due.append(self._step_index + delay_steps)
                delay_ms = delay_steps * self.dt_ms
            self._iti_remaining = self._trial_iti_steps
        else:
            self._iti_remaining -= 1
            response = -1

        self._step_index += 1
        self._advance_clock()
        delivered = sum(1 for due in self._pending_due if due == self._step_index)
        if delivered:
            self._pending_due = [due for due in self._pending_due if due != self._step_index]
            events.append(EVENT_REWARD)
        reward = self.reward_size * delivered
        surprise, uncertainty = self._observer.observe(0, int(delivered > 0))

        latent = self._latent(cue, response, rewarded_pairing, delay_ms, delivered)
        truncated = False
        if self._iti_remaining > 0:
            self._shown_cue = NO_CUE
        else:
            # This trial is complete; the next observation is the next trial's cue.
            self._episode_trials += 1
            truncated = self.trials_per_episode is not None and self._episode_trials >= self.trials_per_episode
            self._start_trial()
            events.append("cue")
        observation = self._observation()
        novelty = self._novelty.visit(self._shown_cue)
        return observation, reward, False, truncated, self._info(novelty, surprise, uncertainty, tuple(events), latent)
