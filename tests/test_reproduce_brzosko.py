"""The ``--quick`` Brzosko et al. (2017) goal-switch reproduction (issue 7 item 5) passes its
conservative criterion over 6 agents per condition: both conditions learn the first goal
(latency of trials 11-20 below trials 1-5 in >= 4 of 6 agents) and, after the goal moves,
the ACh+DA agents' mean latency in trials 31-40 is below the DA-only agents'. The script
prints one verdict per criterion and exits 1 on any FAIL.

Also: an agent's run depends on its seed only (the same numbers alone as inside a batch),
so the population batching of the script changes nothing."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.reproduction_run import SCRIPTS, run_quick

sys.path.insert(0, str(SCRIPTS))

import brzosko_2017_model as model  # noqa: E402


def test_quick_goal_switch_passes():
    run_quick("brzosko_2017_goal_switch.py", 3, timeout=900)


def test_agent_alone_equals_agent_in_batch():
    alone = model.run_agents([3], acetylcholine=True, n_trials=2, progress=False)
    batch = model.run_agents([5, 3], acetylcholine=True, n_trials=2, progress=False)
    np.testing.assert_array_equal(alone["latency_ms"][0], batch["latency_ms"][1])
    np.testing.assert_array_equal(alone["weights"][0], batch["weights"][1])
    other = model.run_agents([4], acetylcholine=True, n_trials=2, progress=False)
    assert not np.array_equal(alone["weights"][0], other["weights"][0])


@pytest.mark.parametrize("bad", [[], [-1]])
def test_bad_seeds_are_refused(bad):
    with pytest.raises(ValueError, match="seed"):
        model.run_agents(bad, acetylcholine=False, n_trials=1, progress=False)


def test_border_place_cells_drive_only_inward_headings():
    mask = model.wall_mask()
    centres = model.place_centres()
    theta = 2 * np.pi * np.arange(model.N_ACTION) / model.N_ACTION
    west_edge = np.nonzero(np.isclose(centres[:, 0], -model.ARENA_HALF_SIZE)
                           & (np.abs(centres[:, 1]) < model.ARENA_HALF_SIZE - 1e-9))[0]
    for cell in west_edge:  # inward = east: only headings with cos(theta) > 0
        assert np.all(np.cos(theta[mask[cell]]) > 0.4)
    interior = ~np.isclose(np.abs(centres), model.ARENA_HALF_SIZE).any(axis=1)
    assert mask[interior].all()
