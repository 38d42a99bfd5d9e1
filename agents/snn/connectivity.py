"""Connectivity rules and the CSR synapse layout.

A connectivity rule turns a set of source neurons and a set of target neurons into
``(pre, post)`` index pairs, drawing from a NumPy ``Generator`` seeded by the builder's
``topology_seed`` (the topology is shared by all networks of a population).

:func:`build_csr` turns the union of all projections into the layout the kernel reads:

* ``row_ptr[i] : row_ptr[i+1]`` are the synapses of presynaptic neuron ``i`` (CSR), and
  within a row the plastic synapses come first, ending at ``plastic_stop[i]``;
* ``post[s]`` (int32), ``delay[s]`` (int16, steps >= 1);
* the post -> pre index over plastic synapses: ``col_ptr[j] : col_ptr[j+1]`` index
  ``col_syn`` (positions into the CSR arrays, int32) and ``col_pre`` (their presynaptic
  neuron, int32), so a postsynaptic spike finds its incoming plastic synapses directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FixedFanout",
    "ConnectionProbability",
    "AllToAll",
    "Explicit",
    "CSRSynapses",
    "build_csr",
    "MAX_DELAY_STEPS",
]

MAX_DELAY_STEPS = 32767  # delays are stored as int16


def _candidates(pre: int, targets: np.ndarray, allow_autapses: bool) -> np.ndarray:
    if allow_autapses:
        return targets
    return targets[targets != pre]


@dataclass(frozen=True)
class FixedFanout:
    """Each source neuron gets exactly ``fanout`` DISTINCT targets drawn uniformly from the
    target set (without itself unless ``allow_autapses``)."""

    fanout: int
    allow_autapses: bool = False

    def __post_init__(self) -> None:
        if self.fanout < 0:
            raise ValueError(f"FixedFanout.fanout must be >= 0, got {self.fanout}")

    def pairs(self, sources, targets, rng):
        pre_list, post_list = [], []
        for i in sources:
            cands = _candidates(i, targets, self.allow_autapses)
            if self.fanout > cands.size:
                raise ValueError(
                    f"FixedFanout.fanout={self.fanout} exceeds the {cands.size} available "
                    f"distinct targets of neuron {i}"
                )
            chosen = cands[rng.choice(cands.size, self.fanout, replace=False)]
            pre_list.append(np.full(self.fanout, i, dtype=np.int64))
            post_list.append(np.sort(chosen))
        if not pre_list:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(pre_list), np.concatenate(post_list)


@dataclass(frozen=True)
class ConnectionProbability:
    """Each (source, target) pair is connected independently with probability ``p``."""

    p: float
    allow_autapses: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"ConnectionProbability.p must be in [0, 1], got {self.p}")

    def pairs(self, sources, targets, rng):
        mask = rng.random((sources.size, targets.size)) < self.p
        if not self.allow_autapses:
            mask &= sources[:, None] != targets[None, :]
        si, ti = np.nonzero(mask)
        return sources[si], targets[ti]


@dataclass(frozen=True)
class AllToAll:
    """Every source connects to every target (without autapses unless allowed)."""

    allow_autapses: bool = False

    def pairs(self, sources, targets, rng):
        pre = np.repeat(sources, targets.size)
        post = np.tile(targets, sources.size)
        if not self.allow_autapses:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post


@dataclass(frozen=True, eq=False)
class Explicit:
    """Synapses given as explicit ``pre`` / ``post`` GLOBAL neuron indices (same length);
    the ``source`` / ``target`` of the connect call restrict the allowed indices."""

    pre: np.ndarray
    post: np.ndarray

    def pairs(self, sources, targets, rng):
        pre = np.asarray(self.pre)
        post = np.asarray(self.post)
        if pre.ndim != 1 or post.ndim != 1 or pre.shape != post.shape:
            raise ValueError(
                f"Explicit pre and post must be 1-D of equal length, got shapes "
                f"{pre.shape} and {post.shape}"
            )
        if pre.size and not (np.issubdtype(pre.dtype, np.integer)
                             and np.issubdtype(post.dtype, np.integer)):
            raise ValueError("Explicit pre and post must be integer neuron indices")
        bad_pre = ~np.isin(pre, sources)
        if bad_pre.any():
            raise ValueError(
                f"Explicit pre index {int(pre[bad_pre][0])} is not among the source neurons"
            )
        bad_post = ~np.isin(post, targets)
        if bad_post.any():
            raise ValueError(
                f"Explicit post index {int(post[bad_post][0])} is not among the target neurons"
            )
        return pre.astype(np.int64), post.astype(np.int64)


@dataclass
class CSRSynapses:
    """Synapses in CSR order (see the module docstring)."""

    row_ptr: np.ndarray
    plastic_stop: np.ndarray
    post: np.ndarray
    delay: np.ndarray
    initial_weight: np.ndarray
    col_ptr: np.ndarray
    col_syn: np.ndarray
    col_pre: np.ndarray

    @property
    def pre(self) -> np.ndarray:
        """Presynaptic neuron of every synapse (computed, not stored)."""
        return np.repeat(np.arange(self.row_ptr.size - 1), np.diff(self.row_ptr))

    @property
    def plastic(self) -> np.ndarray:
        """Whether each synapse is plastic (computed, not stored)."""
        position = np.arange(self.post.size)
        return position < np.repeat(self.plastic_stop, np.diff(self.row_ptr))

    @property
    def n_synapses(self) -> int:
        return int(self.post.size)

    @property
    def n_plastic(self) -> int:
        return int(self.col_syn.size)


def build_csr(n_neurons: int, pre, post, weight, delay, plastic) -> CSRSynapses:
    """Sort synapses by (pre, fixed-after-plastic, original order) and index them."""
    pre = np.asarray(pre, dtype=np.int64)
    post = np.asarray(post, dtype=np.int64)
    weight = np.asarray(weight, dtype=np.float64)
    delay = np.asarray(delay, dtype=np.int64)
    plastic = np.asarray(plastic, dtype=bool)
    if pre.size >= 2**31 - 1:
        raise ValueError(f"{pre.size} synapses exceed the int32 index limit")
    order = np.lexsort((~plastic, pre))  # primary key pre, then plastic first; stable
    pre, post, weight, delay, plastic = (a[order] for a in (pre, post, weight, delay, plastic))
    counts = np.bincount(pre, minlength=n_neurons)
    row_ptr = np.zeros(n_neurons + 1, dtype=np.int64)
    np.cumsum(counts, out=row_ptr[1:])
    plastic_counts = np.bincount(pre[plastic], minlength=n_neurons)
    plastic_stop = row_ptr[:-1] + plastic_counts
    positions = np.nonzero(plastic)[0]
    by_post = positions[np.argsort(post[positions], kind="stable")]
    col_counts = np.bincount(post[positions], minlength=n_neurons)
    col_ptr = np.zeros(n_neurons + 1, dtype=np.int64)
    np.cumsum(col_counts, out=col_ptr[1:])
    return CSRSynapses(
        row_ptr=row_ptr,
        plastic_stop=plastic_stop.astype(np.int64),
        post=post.astype(np.int32),
        delay=delay.astype(np.int16),
        initial_weight=weight,
        col_ptr=col_ptr,
        col_syn=by_post.astype(np.int32),
        col_pre=pre[by_post].astype(np.int32),
    )
