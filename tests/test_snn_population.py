"""Population axis: member b of a population is bitwise the same network run alone,
with 1 and with 2 numba threads; an eligibility-only rule (no conversions) against the
reference."""
from __future__ import annotations

import math

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


def _eligibility_only_network(population_size=2, network_indices=None, accumulating=False,
                              sparse=True):
    """Sources -> LIF all-to-all (plastic), more sources -> LIF all-to-all (static: dense
    rows, delay 3), with ``sparse`` a sparse LIF -> LIF projection (plastic: the
    post -> pre columns are then not contiguous runs of inputs), and fixed inhibition,
    under an eligibility-only rule: no conversions; one decaying eligibility (pairs on pre
    and post spikes) and one that never decays, or with ``accumulating`` two that never
    decay (the engine keeps those outside its records, in post-major order)."""
    from agents.snn import (LIF, AllToAll, EligibilityTrace, FixedFanout, NetworkBuilder,
                            NeuronTrace, PlasticityRule, PoissonSource)

    builder = NetworkBuilder(topology_seed=4)
    src = builder.add_population("src", 12, PoissonSource())
    out = builder.add_population("out", 10, LIF(v_rest_mV=0.0, v_reset_mV=0.0,
                                                v_thresh_mV=15.0, refractory_ms=2.0))
    drive = builder.add_population("drive", 5, PoissonSource())
    builder.connect(src, out, AllToAll(), weight=4.0, plastic=True)
    builder.connect(drive, out, AllToAll(), weight=3.0, delay_steps=3)  # dense static rows
    if sparse:
        builder.connect(out, out, FixedFanout(3), weight=1.0, delay_steps=2, plastic=True)
    builder.connect(out, out, FixedFanout(2), weight=-2.0)
    builder.set_background(out, 0.05, 8.0)
    rule = PlasticityRule(
        "eligibility_only", (NeuronTrace("x", 20.0, 1.0), NeuronTrace("y", 10.0, -0.5)),
        (EligibilityTrace("fast", math.inf if accumulating else 50.0, on_pre_trace="y",
                          on_post_trace="x"),
         EligibilityTrace("sum", math.inf, on_pre_trace=None, on_post_trace="x")),
        (), w_min=-math.inf, w_max=math.inf)
    net = builder.build(population_size=population_size, seed=9, rule=rule,
                        network_indices=network_indices, spike_capacity=100_000)
    net.set_source_probabilities("src", np.linspace(0.02, 0.3, 12))
    net.set_source_probabilities("drive", np.full(5, 0.05))
    assert net._row_dense[drive.start:drive.stop].all()
    return net


def test_eligibility_only_rule_matches_reference_and_leaves_weights():
    """A rule without conversions pairs (the engine accumulates eligibility for an agent
    that converts it itself), across epoch rebases, with dense all-to-all delivery; the
    weights never change in the engine; member 1 equals a single network bitwise."""
    from tests.test_snn_engine import assert_matches_reference

    net = _eligibility_only_network()
    before = net.weights()
    ref = assert_matches_reference(net, 2500, chunks=(700, 1, 1799))
    assert np.array_equal(net.weights(), before)
    assert np.count_nonzero(ref[0]["eligibility"][1]) > 50  # the non-decaying sum grew
    alone = _eligibility_only_network(1, network_indices=[1])
    alone.run(2500)
    assert np.array_equal(alone.eligibility()[0], net.eligibility()[1])
    assert np.array_equal(alone.spikes(0)[1], net.spikes(1)[1])
    # one trace decays: the rule does not accumulate, its eligibility stays in the records
    for trace in (0, 1):
        with pytest.raises(ValueError, match="do not decay"):
            net.accumulated_eligibility(trace)


@pytest.mark.parametrize("sparse", [True, False])
def test_accumulating_rule_matches_reference_in_post_major_order(sparse):
    """Eligibility traces that never decay, pairing on pre and on post spikes: the engine
    keeps them outside the records in post-major order (contiguous runs per postsynaptic
    neuron; with ``sparse=False`` every column is a contiguous run of inputs, the fast
    slice path). They equal the reference across epoch rebases, the weights never change,
    member 1 equals a single network bitwise, and the live view is the post -> pre
    index's order of what eligibility() reports in CSR order."""
    from tests.test_snn_engine import assert_matches_reference

    net = _eligibility_only_network(accumulating=True, sparse=sparse)
    assert net._accumulates and net._syn.shape[2] == 2  # (w, t_last) records only
    with_inputs = np.diff(net.synapses.col_ptr) > 0
    assert net._col_dense[with_inputs].all() != sparse
    before = net.weights()
    ref = assert_matches_reference(net, 2500, chunks=(700, 1, 1799))
    assert np.array_equal(net.weights(), before)
    for trace in (0, 1):
        assert np.count_nonzero(ref[0]["eligibility"][trace]) > 50
        view = net.accumulated_eligibility(trace)
        assert view.shape == (2, net.synapses.n_plastic)
        assert np.array_equal(view, net.eligibility()[:, trace][:, net.synapses.col_syn])
    alone = _eligibility_only_network(1, network_indices=[1], accumulating=True, sparse=sparse)
    alone.run(2500)
    assert np.array_equal(alone.eligibility()[0], net.eligibility()[1])
    assert np.array_equal(alone.spikes(0)[1], net.spikes(1)[1])
    assert not np.array_equal(net.eligibility()[0], net.eligibility()[1])
    net.clear_accumulated_eligibility(1)
    assert not np.any(net.accumulated_eligibility(1)) and np.any(net.accumulated_eligibility(0))
    net.set_shared_weights(before[0], clear_accumulated_eligibility=True)
    assert not np.any(net.eligibility())
    state = net.state_dict()
    net.run(300)
    assert np.any(net.accumulated_eligibility(0))
    net.load_state_dict(state)
    assert not np.any(net.eligibility())
    with pytest.raises(ValueError, match="trace 2"):
        net.accumulated_eligibility(2)
