"""Encoders: observation -> per-step spike probabilities sampled by the engine."""
from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from agents.encoders import (
    OneHotEncoder,
    PopulationEncoder,
    RateEncoder,
    encoder_for_space,
    rate_to_probability,
)
from agents.snn import FixedFanout, NetworkBuilder, PoissonSource, izhikevich_preset


def test_rate_to_probability_is_poisson_at_least_one_event():
    p = rate_to_probability([0.0, 10.0, 1e9], dt_ms=1.0)
    assert p[0] == 0.0
    assert p[1] == pytest.approx(1 - np.exp(-0.01))
    assert p[2] == 1.0
    with pytest.raises(ValueError):
        rate_to_probability([-1.0], 1.0)


def test_rate_encoder_is_linear_and_clipped():
    enc = RateEncoder(low=[0.0, -1.0], high=[1.0, 1.0], max_rate_hz=200.0, dt_ms=0.5)
    assert np.allclose(enc.rates_hz([0.5, 2.0]), [100.0, 200.0])
    assert np.allclose(enc.rates_hz([-3.0, -1.0]), [0.0, 0.0])
    assert np.allclose(enc([1.0, 0.0]), rate_to_probability([200.0, 100.0], 0.5))


def test_population_encoder_peaks_at_the_nearest_centre():
    enc = PopulationEncoder(low=[0.0, -2.0], high=[1.0, 2.0], neurons_per_dim=5,
                            max_rate_hz=50.0)
    rates = enc.rates_hz([0.26, 2.0]).reshape(2, 5)
    assert rates[0].argmax() == 1 and rates[1].argmax() == 4
    assert rates[1, 4] == pytest.approx(50.0)
    assert enc.n_neurons == 10 and enc([0.0, 0.0]).shape == (10,)
    # neighbours of an exact centre get exp(-1/2) of the peak with width_factor 1
    assert rates[1, 3] == pytest.approx(50.0 * np.exp(-0.5 * (1.0) ** 2))


def test_population_encoder_handles_infinite_bounds():
    box = spaces.Box(low=np.array([-4.8, -np.inf]), high=np.array([4.8, np.inf]), dtype=np.float64)
    enc = encoder_for_space(box, neurons_per_dim=7)
    r_small = enc.rates_hz([0.0, -1e3]).reshape(2, 7)
    r_big = enc.rates_hz([0.0, 1e3]).reshape(2, 7)
    assert np.all(np.isfinite(r_small)) and r_small[1].argmax() == 0 and r_big[1].argmax() == 6
    # an explicit range replaces the squashing
    enc2 = PopulationEncoder(box.low, box.high, neurons_per_dim=5, ranges=[None, (-2.0, 2.0)])
    assert not enc2.squash[1] and enc2.rates_hz([0.0, 1.0]).reshape(2, 5)[1].argmax() == 3


def test_one_hot_encoder_and_discrete_start():
    enc = OneHotEncoder(4, max_rate_hz=100.0, baseline_rate_hz=1.0)
    assert np.allclose(enc.rates_hz(2), [1.0, 1.0, 100.0, 1.0])
    shifted = encoder_for_space(spaces.Discrete(3, start=5))
    assert shifted.rates_hz(np.int64(6)).argmax() == 1
    with pytest.raises(ValueError, match="out of range"):
        enc(4)
    with pytest.raises(ValueError, match="scalar integer"):
        enc(1.5)


@pytest.mark.parametrize("bad", [[0.0], [0.0, 0.0, 0.0], [[0.0, 0.0]]])
def test_encoders_refuse_wrong_shapes(bad):
    enc = PopulationEncoder([0.0, 0.0], [1.0, 1.0], neurons_per_dim=3)
    with pytest.raises(ValueError, match=r"expected \(2,\)"):
        enc(bad)


def test_encoders_refuse_bad_parameters():
    with pytest.raises(ValueError):
        RateEncoder([0.0], [np.inf])
    with pytest.raises(ValueError):
        RateEncoder([1.0], [0.0])
    with pytest.raises(ValueError):
        PopulationEncoder([0.0], [1.0], neurons_per_dim=1)
    with pytest.raises(ValueError):
        PopulationEncoder([0.0], [1.0], dt_ms=float("nan"))
    with pytest.raises(ValueError, match="NaN"):
        RateEncoder([0.0], [1.0])([float("nan")])
    with pytest.raises(ValueError):
        encoder_for_space(spaces.MultiBinary(3))


def test_engine_samples_encoder_probabilities():
    """Source neurons driven by an encoder fire at the encoded rate (counter-based RNG)."""
    enc = OneHotEncoder(3, max_rate_hz=200.0, baseline_rate_hz=20.0)
    builder = NetworkBuilder(dt_ms=1.0)
    src = builder.add_population("obs", enc.n_neurons, PoissonSource())
    hid = builder.add_population("hid", 2, izhikevich_preset("RS"))
    builder.connect(src, hid, FixedFanout(1), weight=1.0)
    net = builder.build(spike_capacity=10**5)
    net.set_source_probabilities("obs", enc(1))
    steps = 20_000
    net.run(steps)
    _, ids = net.spikes()
    counts = np.bincount(ids, minlength=5)[:3]
    expected = rate_to_probability(enc.rates_hz(1), 1.0) * steps
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        net.set_source_probabilities("obs", np.zeros(4))
