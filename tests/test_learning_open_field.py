"""OpenFieldNavigation-v0 (issue 5): the agents learn to find the hidden goal, measured as
in ``scripts/bench_agent.py openfield`` (median escape latency of trials 46-50 against
trials 1-5 of one run) on fewer seeds with a conservative threshold; without dopamine
they do not. Also the 2-D place-cell encoder the agents use there."""
from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from agents.architectures import AgentParams, FeatureEncoder, make_encoder
from tests.bench_agent_module import bench

ENV_ID = "neuromod_gym/OpenFieldNavigation-v0"


def latency_ratios(kind: str, seeds, **params) -> list[float]:
    """Per seed: median latency of trials 46-50 / median latency of trials 1-5."""
    ratios = []
    for seed in seeds:
        env = bench._trained_on_trials(kind, seed, params, ENV_ID, bench.OPENFIELD_TRIALS)
        ratios.append(bench.openfield_latency_claim(env.latency_ms)["ratio"])
    return ratios


# ----------------------------------------------------------------------------- encoder
BOX = spaces.Box(-1.0, 1.0, shape=(2,))


def test_place_encoder_is_a_grid_of_2d_place_fields():
    enc = FeatureEncoder(BOX, "place", place_cells_per_side=11)
    assert enc.n_features == 121
    f = enc(np.array([[0.2, -0.6], [1.0, 1.0]]))
    assert f.shape == (2, 121) and np.all((f >= 0) & (f <= 1))
    # The most active cell is the one centred at the position (spacing 0.2 in obs units).
    centre = enc.place_centres[f[0].argmax()] * 2.0 - 1.0
    assert np.allclose(centre, [0.2, -0.6]) and f[0].max() == pytest.approx(1.0)
    assert np.allclose(enc.place_centres[f[1].argmax()], [1.0, 1.0])


def test_place_fields_code_conjunctions_not_separate_dimensions():
    """A place cell fires at its place, not wherever x OR y matches (what "gaussian" does)."""
    enc = FeatureEncoder(BOX, "place", place_cells_per_side=5)
    cell = int(np.argmin(np.sum((enc.place_centres - [1.0, 1.0]) ** 2, axis=1)))
    at_place, same_x_far_y = enc(np.array([[1.0, 1.0], [1.0, -1.0]]))[:, cell]
    assert at_place == pytest.approx(1.0) and same_x_far_y < 1e-3


def test_place_encoder_parameters_and_defaults():
    with pytest.raises(ValueError, match="place_cells_per_side"):
        FeatureEncoder(BOX, "place", place_cells_per_side=1)
    with pytest.raises(ValueError, match="place_cells_per_side"):
        FeatureEncoder(spaces.Box(-1.0, 1.0, shape=(5,)), "place", place_cells_per_side=10)
    enc = make_encoder(BOX, AgentParams(encoder="place", place_cells_per_side=4))
    assert enc.n_features == 16
    # The new parameter does not touch the other encoders.
    a = make_encoder(BOX, AgentParams(encoder="gaussian"))
    b = make_encoder(BOX, AgentParams(encoder="gaussian", place_cells_per_side=3))
    x = np.array([[0.3, -0.2]])
    assert np.array_equal(a(x), b(x))


# ----------------------------------------------------------------------------- learning
def test_spiking_agent_finds_the_goal():
    """Latency of trials 46-50 <= 50% of trials 1-5 in >= 2 of 3 seeds (claim: 25%, 8/10)."""
    ratios = latency_ratios("spiking", range(3))
    assert sum(r <= 0.5 for r in ratios) >= 2, ratios


def test_twin_finds_the_goal():
    ratios = latency_ratios("twin", range(4))
    assert sum(r <= 0.5 for r in ratios) >= 3, ratios


def test_without_dopamine_the_spiking_agent_does_not_learn():
    """Same agent, plasticity off: the late trials are no faster than the learning test's
    threshold (a random walk mostly times out)."""
    ratios = latency_ratios("spiking", range(1), dopamine="off")
    assert min(ratios) > 0.5, ratios
