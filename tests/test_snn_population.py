"""Population axis: member b of a population is bitwise the same network run alone,
with 1 and with 2 numba threads."""
from __future__ import annotations

import numba
import numpy as np
import pytest

from agents.snn import workload_w


def _run(population_size, network_indices=None, threads=1, steps=1500, release=None):
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        net = workload_w(n_neurons=100, fanout=10, population_size=population_size, seed=21,
                         network_indices=network_indices, input_probability=0.02,
                         spike_capacity=10**5)
        net.run(steps // 2)
        net.run(steps - steps // 2)
        return net
    finally:
        numba.set_num_threads(previous)


@pytest.mark.parametrize("threads", [1, 2])
def test_member_equals_single_network_bitwise(threads):
    pop = _run(4, threads=threads)
    weights = pop.weights()
    assert len({int(c) for c in pop.spike_count}) > 1, "members should differ (own streams)"
    for b in (0, 3):
        alone = _run(1, network_indices=[b], threads=1)
        assert np.array_equal(weights[b], alone.weights()[0])
        assert np.array_equal(pop.v[b], alone.v[0])
        assert np.array_equal(pop.traces[b], alone.traces[0])
        s_pop, i_pop = pop.spikes(b)
        s_one, i_one = alone.spikes(0)
        assert np.array_equal(s_pop, s_one) and np.array_equal(i_pop, i_one)


def test_one_and_two_threads_give_identical_populations():
    a = _run(3, threads=1)
    b = _run(3, threads=2)
    assert np.array_equal(a.weights(), b.weights())
    assert np.array_equal(a.v, b.v)
    assert np.array_equal(a.spike_count, b.spike_count)


def test_per_network_release_and_learning_rate_scale():
    net = workload_w(n_neurons=60, fanout=6, population_size=2, input_probability=0.03)
    net.set_learning_rate_scale([1.0, 0.0])
    net.run(800)
    w = net.weights()
    plastic = net.synapse_table()["plastic"]
    assert np.any(w[0, plastic] != 1.0)
    assert np.all(w[1, plastic] == 1.0)


def test_parameter_variant_member_equals_network_built_with_those_parameters():
    """A population whose member 1 has other Izhikevich parameters and another dopamine
    pulse equals, bitwise, single networks built with those parameters."""
    from agents.snn import izhikevich_preset

    variant = izhikevich_preset("RS", d=6.0, a_per_ms=0.03)

    def build(population_size, network_indices=None):
        return workload_w(n_neurons=100, fanout=10, population_size=population_size, seed=5,
                          network_indices=network_indices, input_probability=0.02,
                          spike_capacity=10**5)

    pop = build(2)
    pop.set_neuron_model("exc", variant, network=1)
    pop.set_modulator_pulse("DA", 0.9, network=1)
    pop.run(1200)
    alone = build(1, network_indices=[1])
    alone.set_neuron_model("exc", variant)
    alone.set_modulator_pulse("DA", 0.9)
    alone.run(1200)
    plain = build(1, network_indices=[1])
    plain.run(1200)
    assert np.array_equal(pop.weights()[1], alone.weights()[0])
    assert np.array_equal(pop.spikes(1)[1], alone.spikes(0)[1])
    assert not np.array_equal(pop.spikes(1)[1], plain.spikes(0)[1])
    with pytest.raises(ValueError, match="Izhikevich"):
        from agents.snn import LIF
        pop.set_neuron_model("exc", LIF())
    with pytest.raises(ValueError, match="unknown modulator"):
        pop.set_modulator_pulse("NE", 1.0)
