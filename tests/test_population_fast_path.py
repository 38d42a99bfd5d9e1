"""The population (vector-env) path's numba passes give exactly the numbers of the numpy
formulas they replaced (agents.architectures / agents.spiking_agent, issue 5 speed work):
so same seed -> bitwise the same episodes as before the speed work."""
import numpy as np
import pytest

from agents.architectures import _add_clipped, _discrete_unit_factor, _inverse_cdf_sample
from agents.spiking_agent import _group_rates


@pytest.mark.parametrize("seed", range(5))
def test_inverse_cdf_sample_equals_numpy(seed):
    rng = np.random.default_rng(seed)
    for n_actions in (2, 3, 7):
        logits = rng.normal(0.0, 5.0, (8, n_actions))
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        active = rng.random(8) < 0.7
        draws = rng.random(int(active.sum()))
        cdf = np.cumsum(probabilities[active], axis=1)
        cdf /= cdf[:, -1:]
        expected = np.zeros(8, dtype=np.int64)
        expected[active] = np.minimum((draws[:, None] >= cdf).sum(axis=1), n_actions - 1)
        actions = np.full(8, -1, dtype=np.int64)
        _inverse_cdf_sample(probabilities, active, draws, actions)
        np.testing.assert_array_equal(actions, expected)


@pytest.mark.parametrize("critic", [True, False])
def test_discrete_unit_factor_equals_numpy(critic):
    rng = np.random.default_rng(1)
    n, n_actions = 8, 3
    n_groups = n_actions + critic
    unit_group = np.repeat(np.arange(n_groups), [4] * n_groups)
    probabilities = rng.dirichlet(np.ones(n_actions), n)
    actions = rng.integers(0, n_actions, n)
    active = rng.random(n) < 0.6
    if critic:
        per_group = np.empty((n, n_groups))
        per_group[:, 0] = 1.0
        per_group[:, 1:] = -probabilities
        per_group[np.arange(n), 1 + actions] += 1.0
    else:
        per_group = np.zeros((n, n_groups))
        per_group[np.arange(n), actions] = 1.0
    expected = per_group[:, unit_group]
    expected[~active] = 0.0
    out = np.full((n, unit_group.size), np.nan)
    _discrete_unit_factor(actions, probabilities, active, unit_group, critic, out)
    assert np.array_equal(out.view(np.int64), expected.view(np.int64))  # bitwise, incl. signs


def test_group_rates_and_add_clipped_equal_numpy():
    rng = np.random.default_rng(2)
    unit_group = np.repeat(np.arange(3), [40, 20, 20])
    counts = rng.integers(0, 30, (8, 80)).astype(np.float64)
    divisor = np.array([40.0, 20.0, 20.0]) * 20.0
    indicator = (unit_group[:, None] == np.arange(3)).astype(np.float64)
    out = np.empty((8, 3))
    _group_rates(counts, unit_group, divisor, out)
    np.testing.assert_array_equal(out, counts @ indicator / divisor)
    weights = rng.uniform(-1.0, 11.0, (80, 81))
    dw = rng.normal(0.0, 2.0, (80, 81))
    expected = weights + dw
    np.clip(expected, 0.0, 10.0, out=expected)
    _add_clipped(weights, dw, 0.0, 10.0)
    np.testing.assert_array_equal(weights, expected)
