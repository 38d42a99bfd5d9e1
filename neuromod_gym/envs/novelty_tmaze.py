"""A T-maze whose reward follows the novel cue: novelty-seeking pays off."""

from __future__ import annotations

import hashlib
from typing import Any

import gymnasium as gym
import numpy as np

from neuromod_gym.envs.base import NeuromodTask, check_finite, check_int, check_positive, check_probability, check_retention
from neuromod_gym.signals import EVENT_EPISODE_END, EVENT_REWARD, OutcomeObserver, VisitNovelty

EVENT_CUE = "cue"
EVENT_ARM_ENTRY = "arm_entry"
LEFT, RIGHT = 0, 1


class NoveltyTMazeEnv(NeuromodTask):
    """Choose between a familiar and a novel arm cue; reward moves to the novel cue.

    A T-maze in blocks of trials. In each block one arm shows a cue never seen before
    (the block's novel cue) and the other shows the previous block's cue (familiar,
    and rewarded in its own block); their sides are drawn afresh every trial. The novel
    cue's arm is baited with probability ``p_reward_novel``, the familiar one with
    ``p_reward_familiar``, independently. So the rule an explorer discovers by visiting
    the novel arm is "reward moves to what is new", and a pure value learner is misled:
    at each block start the familiar cue carries the value it earned in its own block,
    while the new cue has none. Novelty-driven ACh (encoding mode, exploration bonus,
    Hasselmo 2006; Brzosko et al. 2017) is what lets an agent switch at once. The
    design follows spontaneous novelty preference in rodent T-mazes and novelty-bonus
    reinforcement learning (Kakade & Dayan 2002, "Dopamine: generalization and bonuses";
    Wittmann et al. 2008): novelty seeking pays only where novelty predicts reward.

    Block 0 is a familiarisation block: its "familiar" arm shows a home cue that is as
    new as the block's novel cue on the first trial; from block 1 on exactly one arm's
    cue is new at the block's first trial.

    Cue patterns come from a fixed codebook (cue k is always the same +-1 pattern of
    length ``cue_dim``, pseudo-random but identical in every run), so what is new is
    defined by the run's history, not by the pattern. The codebook holds
    2**``cue_dim`` patterns; a run that needs more blocks raises RuntimeError.

    ## Observation
    | index | meaning | values |
    |---|---|---|
    | 0 .. cue_dim-1 | pattern of the cue on the LEFT arm | {-1, +1} |
    | cue_dim .. 2 cue_dim-1 | pattern of the cue on the RIGHT arm | {-1, +1} |

    ``Box(-1, 1, (2 * cue_dim,), float32)``. Which cue is novel is not observed: it is
    defined by what the agent has seen.

    ## Action
    ``Discrete(2)``: 0 = enter the left arm, 1 = enter the right arm.

    ## Reward
    | arm entered | reward |
    |---|---|
    | baited | ``reward`` (1.0) |
    | not baited | 0.0 |

    The novel cue's arm is baited with probability ``p_reward_novel`` (0.8), the
    familiar cue's arm with ``p_reward_familiar`` (0.2), independently each trial.

    ## Episode end
    One episode is one trial: ``reset`` puts the agent at the choice point facing the
    two arm cues; ``step`` enters the chosen arm, delivers the reward and ends the
    episode (``terminated=True``; never truncated). A *run* begins at ``reset(seed=...)``
    (or the very first ``reset()``): the trial counter and the observers' memories start
    afresh; every later plain ``reset()`` is the next trial of the same run (this is
    what vector-env autoreset does). Blocks last ``trials_per_block`` trials.

    ## info
    | key | meaning |
    |---|---|
    | ``novelty`` | :class:`~neuromod_gym.signals.VisitNovelty` over cue identities (patterns), counting arm visits. At the choice point: the novelty of the more novel of the two cues in view (no visit counted); at the arm: the novelty of the entered arm's cue as it is visited (1 for a cue never visited, 1/sqrt(1 + n) after n visits) |
    | ``surprise`` | -log p(reward outcome) under an :class:`~neuromod_gym.signals.OutcomeObserver` keyed by the entered cue (2 outcomes, prior 0.5, forgetting ``observer_retention`` per visit). High when a familiar cue that used to pay stops paying after the block change, i.e. in the trials after it. 0 at the choice point |
    | ``uncertainty`` | entropy (nats) of that observer's reward prediction: for the entered cue at the arm; at the choice point the larger of the two arms' values |
    | ``t_ms`` | 0 at the choice point, ``dt_ms`` at the arm |
    | ``events`` | ``"cue"`` at reset; ``"arm_entry"``, ``"reward"`` (if baited and ``reward`` != 0), ``"episode_end"`` at the step |
    | ``latent`` | ``novel_arm`` (int: 0 = left, 1 = right), ``novel_cue`` and ``familiar_cue`` (int cue ids), ``left_baited`` and ``right_baited`` (bool: the reward location(s)), ``block`` (int), ``trial_in_block`` (int), ``trial`` (int, 0-based in the run) |

    ## Arguments
    | name | default | unit / meaning |
    |---|---|---|
    | ``trials_per_block`` | 20 | trials per block (one novel cue per block), >= 1 |
    | ``p_reward_novel`` | 0.8 | probability the novel cue's arm is baited |
    | ``p_reward_familiar`` | 0.2 | probability the familiar cue's arm is baited |
    | ``reward`` | 1.0 | reward in a baited arm |
    | ``cue_dim`` | 12 | length of a cue pattern (2**cue_dim cues available), >= 4 |
    | ``dt_ms`` | 1000.0 | ms from the choice point to the end of the arm |
    | ``observer_retention`` | 0.8 | forgetting of the reward observer per visit of a cue, in (0, 1] |
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        trials_per_block: int = 20,
        p_reward_novel: float = 0.8,
        p_reward_familiar: float = 0.2,
        reward: float = 1.0,
        cue_dim: int = 12,
        dt_ms: float = 1000.0,
        observer_retention: float = 0.8,
    ):
        self.trials_per_block = check_int("trials_per_block", trials_per_block, 1)
        self.p_reward_novel = check_probability("p_reward_novel", p_reward_novel)
        self.p_reward_familiar = check_probability("p_reward_familiar", p_reward_familiar)
        self.reward = check_finite("reward", reward)
        self.cue_dim = check_int("cue_dim", cue_dim, 4)
        if self.cue_dim > 64:
            raise ValueError(f"cue_dim must be <= 64, got {cue_dim!r}")
        self.dt_ms = check_positive("dt_ms", dt_ms)
        self.observer_retention = check_retention("observer_retention", observer_retention)

        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2 * self.cue_dim,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)

        self._codebook: list[np.ndarray] = []
        self._used_codes: set[bytes] = set()
        self.novelty_memory = VisitNovelty()
        self.outcome_memory = OutcomeObserver(n_outcomes=2, prior=0.5, retention=self.observer_retention)
        self._trial = -1
        self._novel_arm = LEFT
        self._baited = (False, False)
        self._trial_open = False

    # ------------------------------------------------------------------ cues
    def cue_pattern(self, cue_id: int) -> np.ndarray:
        """The +-1 pattern of cue ``cue_id`` (the same in every run and every instance)."""
        if cue_id >= 2**self.cue_dim:
            raise RuntimeError(
                f"the run needs cue {cue_id} but cue_dim={self.cue_dim} gives only {2**self.cue_dim} distinct "
                "cues; use a larger cue_dim or fewer blocks"
            )
        attempt = 0
        while len(self._codebook) <= cue_id:
            # Deterministic pseudo-random patterns (a hash, not an RNG), skipping repeats so
            # every cue id has its own pattern.
            digest = hashlib.blake2b(f"{len(self._codebook)}:{attempt}".encode(), digest_size=8).digest()
            bits = np.unpackbits(np.frombuffer(digest, dtype=np.uint8))[: self.cue_dim]
            code = bits.tobytes()
            attempt += 1
            if code in self._used_codes:
                continue
            self._used_codes.add(code)
            self._codebook.append(np.where(bits == 1, 1.0, -1.0).astype(np.float32))
            attempt = 0
        return self._codebook[cue_id]

    @staticmethod
    def _cue_key(pattern: np.ndarray) -> tuple[int, ...]:
        """What the observers count: the pattern itself, i.e. what the agent sees."""
        return tuple(int(v) for v in pattern)

    @property
    def block(self) -> int:
        return self._trial // self.trials_per_block

    @property
    def novel_cue(self) -> int:
        return self.block + 1  # cue 0 is the home cue of the familiarisation block

    @property
    def familiar_cue(self) -> int:
        return self.block  # the previous block's novel cue (the home cue in block 0)

    def _arm_cues(self) -> tuple[int, int]:
        if self._novel_arm == LEFT:
            return self.novel_cue, self.familiar_cue
        return self.familiar_cue, self.novel_cue

    def _observation(self) -> np.ndarray:
        left, right = self._arm_cues()
        return np.concatenate([self.cue_pattern(left), self.cue_pattern(right)]).astype(np.float32)

    def _latent(self) -> dict[str, Any]:
        return {
            "novel_arm": int(self._novel_arm),
            "novel_cue": int(self.novel_cue),
            "familiar_cue": int(self.familiar_cue),
            "left_baited": bool(self._baited[LEFT]),
            "right_baited": bool(self._baited[RIGHT]),
            "block": int(self.block),
            "trial_in_block": int(self._trial % self.trials_per_block),
            "trial": int(self._trial),
        }

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        new_run = self._begin_reset(seed, options)
        rng = self.np_random
        if new_run:
            self._trial = -1
            self.novelty_memory.clear()
            self.outcome_memory.clear()
        self._trial += 1
        self._novel_arm = int(rng.integers(2))
        novel_baited = bool(rng.random() < self.p_reward_novel)
        familiar_baited = bool(rng.random() < self.p_reward_familiar)
        self._baited = (novel_baited, familiar_baited) if self._novel_arm == LEFT else (familiar_baited, novel_baited)
        self._trial_open = True
        self._start_clock()
        keys = [self._cue_key(self.cue_pattern(cue)) for cue in self._arm_cues()]
        info = self._info(
            novelty=max(self.novelty_memory.peek(key) for key in keys),
            surprise=0.0,
            uncertainty=max(self.outcome_memory.uncertainty(key) for key in keys),
            events=(EVENT_CUE,),
            latent=self._latent(),
        )
        return self._observation(), info

    def step(self, action: Any):
        if not self._trial_open:
            raise RuntimeError("the trial is over (or never began): call reset() before step()")
        arm = self._check_action(action)
        self._trial_open = False
        key = self._cue_key(self.cue_pattern(self._arm_cues()[arm]))
        baited = self._baited[arm]
        novelty = self.novelty_memory.visit(key)
        surprise, uncertainty = self.outcome_memory.observe(key, int(baited))
        self._advance_clock()
        events = [EVENT_ARM_ENTRY]
        if baited and self.reward != 0.0:
            events.append(EVENT_REWARD)
        events.append(EVENT_EPISODE_END)
        reward = self.reward if baited else 0.0
        info = self._info(novelty, surprise, uncertainty, events=tuple(events), latent=self._latent())
        return self._observation(), float(reward), True, False, info
