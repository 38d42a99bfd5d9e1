"""Per-task hyperparameters shipped with the package (rl-zoo3 style).

Each agent kind has one YAML file here (``spiking.yaml``, ``twin.yaml``, and the
stable-baselines3 baselines' ``ppo.yaml``, ``a2c.yaml``, ``dqn.yaml``) keyed by
Gymnasium env id, with a ``default`` entry. :func:`load_hyperparams` is the one loader:
it returns ``default`` updated with the env's own entry (if any). Values the user passes
to the agent's constructor override both.
"""
from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

__all__ = ["load_hyperparams", "AGENT_KINDS"]

AGENT_KINDS = ("spiking", "twin", "ppo", "a2c", "dqn")


def load_hyperparams(agent_kind: str, env_id: str | None) -> dict[str, Any]:
    """``default`` merged with the entry for ``env_id`` from ``<agent_kind>.yaml``.

    Raises:
        ValueError: unknown agent kind, or a malformed file.
    """
    if agent_kind not in AGENT_KINDS:
        raise ValueError(f"unknown agent kind {agent_kind!r}; known: {list(AGENT_KINDS)}")
    text = resources.files(__name__).joinpath(f"{agent_kind}.yaml").read_text(encoding="utf-8")
    table = yaml.safe_load(text) or {}
    if not isinstance(table, dict) or not isinstance(table.get("default", {}), dict):
        raise ValueError(f"{agent_kind}.yaml must map env ids to parameter dicts")
    merged = dict(table.get("default", {}))
    if env_id is not None:
        entry = table.get(env_id, {})
        if not isinstance(entry, dict):
            raise ValueError(f"{agent_kind}.yaml entry {env_id!r} must be a dict")
        merged.update(entry)
    return merged
