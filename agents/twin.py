"""The non-spiking twin: a rate-based linear learner on the spiking agent's features.

Same encoder, same architectures, same RL core (:mod:`agents.architectures`), same
budget; the only difference is the substrate: each output group is ONE rate unit whose
readout is ``w . features`` and whose eligibility is the features themselves (the exact
gradient of a linear readout). So every table can show whether the spiking machinery
helps or costs. With ``architecture="actor_critic"`` it is a linear actor-critic with
the policy-gradient term and accumulating TD(lambda) traces; with Box actions its actor is
``n_action_directions`` rate units with preferred directions, read out as a population
vector with Gaussian exploration (:mod:`agents.architectures`, "Box actions"); a unit's
trace adds the features times ((x - mu) . u_k) / action_noise^2 per step.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from agents.architectures import AgentParams, ThreeFactorAgent

__all__ = ["RateTwinAgent"]


class RateTwinAgent(ThreeFactorAgent):
    """Linear rate-unit twin of :class:`~agents.spiking_agent.SpikingAgent`.

    ``RateTwinAgent(env, architecture="actor_critic", seed=0, **params)``; parameters are
    :class:`~agents.architectures.AgentParams` (defaults per task from
    ``agents/hyperparams/twin.yaml``). ``predict`` is stateless (no neural state).
    """

    agent_kind: ClassVar[str] = "twin"
    params_class: ClassVar[type[AgentParams]] = AgentParams

    def _build_substrate(self, rng: np.random.Generator) -> None:
        p = self.params
        self.unit_group = np.arange(self.n_groups)
        self.weights = rng.uniform(p.w_init_min, p.w_init_max, (self.n_groups, self.n_inputs))

    def _learner_forward(self, features):
        return self.weights @ features, np.broadcast_to(features, self.weights.shape)

    def _learner_reset(self) -> None:
        pass

    def _population_build(self, n: int) -> None:
        pass  # rate units keep no state between steps

    def _population_forward(self, features):
        return features @ self.weights.T, np.broadcast_to(
            features[:, None, :], (len(features),) + self.weights.shape)

    def _population_reset(self, copies) -> None:
        pass

    def _predict_readout(self, features, episode_start, full_reset):
        return features @ self.weights.T
