"""The engine's kernels equal the slow NumPy reference (tests/reference/snn_reference.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agents.snn import (
    LIF,
    AllToAll,
    ConductanceLIF,
    ConnectionProbability,
    Conversion,
    EligibilityTrace,
    Explicit,
    FixedFanout,
    Modulator,
    NetworkBuilder,
    NeuronTrace,
    PlasticityRule,
    PoissonSource,
    ReleaseTrigger,
    izhikevich2007_dopamine,
    izhikevich2007_rstdp,
    izhikevich_preset,
    workload_w,
)
from tests.reference.snn_reference import describe, simulate

TOL = 1e-9


def assert_matches_reference(net, n_steps, release=None, chunks=(None,)):
    """Run ``net`` (in the given chunk sizes) and the reference; compare everything."""
    desc = describe(net)
    if chunks == (None,):
        net.run(n_steps, release=release)
    else:
        done = 0
        for size in chunks:
            rel = None if release is None else np.asarray(release)[:, done:done + size]
            net.run(size, release=rel)
            done += size
        assert done == n_steps
    ref = simulate(desc, n_steps, release=release)
    weights = net.weights()
    elig = net.eligibility()
    total = 0
    for b, r in enumerate(ref):
        steps, ids = net.spikes(b)
        assert np.array_equal(steps, r["spike_steps"]), f"network {b}: spike times differ"
        assert np.array_equal(ids, r["spike_ids"]), f"network {b}: spike ids differ"
        total += steps.size
        np.testing.assert_allclose(weights[b], r["weights"], rtol=0, atol=TOL)
        if r["eligibility"].size:
            np.testing.assert_allclose(elig[b], r["eligibility"], rtol=0, atol=TOL)
        if r["traces"].size:
            np.testing.assert_allclose(net.traces[b], r["traces"], rtol=0, atol=TOL)
        np.testing.assert_allclose(net.v[b], r["v"], rtol=0, atol=TOL)
        np.testing.assert_allclose(net.s1[b], r["s1"], rtol=0, atol=TOL)
        np.testing.assert_allclose(net.modulator_levels[b], r["modulators"], rtol=0, atol=TOL)
    assert total > 0, "test network did not spike: the comparison would be vacuous"
    return ref


def small_w(population_size=2, n=80, fanout=8, seed=3, **kw):
    net = workload_w(n_neurons=n, fanout=fanout, population_size=population_size, seed=seed,
                     input_probability=0.02, spike_capacity=100_000, **kw)
    return net


def test_small_workload_w_matches_reference():
    net = small_w()
    assert_matches_reference(net, 1500)
    # plasticity did something and the bounds were reached
    w = net.weights()
    plastic = net.synapse_table()["plastic"]
    assert np.any(w[:, plastic] != 1.0)


def test_run_in_chunks_equals_one_run():
    a = small_w()
    b = small_w()
    a.run(700)
    b.run(200); b.run(1); b.run(499)
    assert np.array_equal(a.weights(), b.weights())
    assert np.array_equal(a.spikes(1)[0], b.spikes(1)[0])
    assert np.array_equal(a.v, b.v)


def _delay_clip_sign_network(population_size=3, dtype="float64", rule=None):
    builder = NetworkBuilder(dt_ms=1.0, topology_seed=11)
    exc = builder.add_population("exc", 40, izhikevich_preset("RS"))
    inh = builder.add_population("inh", 10, izhikevich_preset("FS", integration="half_steps"))
    rng = np.random.default_rng(5)
    n_ee = builder.connect(exc, [exc, inh], ConnectionProbability(0.25), weight=1.5,
                           delay_steps=1, plastic=True)
    builder.connect(exc, exc, FixedFanout(3), weight=rng.uniform(0.5, 2.0, 120),
                    delay_steps=rng.integers(1, 6, 120), plastic=True)
    builder.connect(inh, exc, FixedFanout(6), weight=-2.0, delay_steps=2)
    assert n_ee > 0
    builder.set_background([exc, inh], 0.03, 20.0)
    if rule is None:
        rule = izhikevich2007_rstdp(w_min=0.5, w_max=2.0, eligibility_tau_ms=50.0)
    # tau_ms = 0: the level is exactly the release of the step (an external signal)
    modulator = Modulator("DA", tau_ms=0.0)
    return builder.build(population_size=population_size, seed=9, rule=rule,
                         modulators=[modulator], dtype=dtype)


def test_delays_clipping_and_modulator_sign_changes_match_reference():
    net = _delay_clip_sign_network()
    steps = 1200
    t = np.arange(steps)
    # sign flips every 150 steps, different per network, with stretches of zero
    base = np.sign(np.sin(2 * np.pi * t / 300.0)) * 0.5
    base[(t // 75) % 4 == 3] = 0.0
    release = np.stack([base, -base, 2.0 * base])[:, :, None]
    ref = assert_matches_reference(net, steps, release=release, chunks=(500, 700))
    w = net.weights()
    plastic = net.synapse_table()["plastic"]
    # both bounds were hit somewhere: the clipping semantics were exercised
    assert np.any(w[:, plastic] == 0.5) and np.any(w[:, plastic] == 2.0)
    assert len(ref) == 3


def test_specialised_one_trace_loop_equals_the_general_loop_bitwise():
    """Workload W's rule runs in kernels._propagate_one_trace; the same rule plus an idle
    second eligibility trace (pairs with nothing, converts nothing) takes the general
    loop. Same spikes, and bitwise the same weights, eligibility and traces: the fast loop
    is an exact specialisation, in float64 and in float32."""
    import dataclasses

    steps = 1200
    t = np.arange(steps)
    release = (np.sign(np.sin(2 * np.pi * t / 300.0)) * 0.5)[:, None]
    for dtype in ("float64", "float32"):
        fast = _delay_clip_sign_network(population_size=1, dtype=dtype)
        idle = EligibilityTrace("idle", tau_ms=100.0, on_pre_trace=None, on_post_trace=None)
        rule = dataclasses.replace(fast.rule, eligibility_traces=fast.rule.eligibility_traces
                                   + (idle,))
        general = _delay_clip_sign_network(population_size=1, dtype=dtype, rule=rule)
        fast.run(steps, release=release)
        general.run(steps, release=release)
        assert fast.spike_count[0] > 100
        for got, expected in zip(general.spikes(0), fast.spikes(0)):
            assert np.array_equal(got, expected)
        assert np.array_equal(general.weights(), fast.weights())
        assert np.array_equal(general.eligibility()[:, :1], fast.eligibility())
        assert np.array_equal(general.traces, fast.traces)
        w = fast.weights()[0, fast.synapse_table()["plastic"]]
        assert w.min() == 0.5 and w.max() == 2.0  # clipping was exercised


def test_generic_rule_with_two_traces_two_modulators_and_epoch_rebase():
    """Rule-as-data beyond W: set-mode traces, constant terms, two conversions, short
    eligibility (epochs of a few dozen steps). Bounds do not bind, so per-step and
    touch-time clipping coincide whatever the signs."""
    builder = NetworkBuilder(dt_ms=0.5, topology_seed=2)
    src = builder.add_population("in", 20, PoissonSource())
    hid = builder.add_population("hid", 30, izhikevich_preset("RS"))
    builder.connect(src, hid, FixedFanout(10), weight=6.0, delay_steps=[1, 2, 3] * 66 + [1, 2],
                    plastic=True)
    builder.connect(hid, hid, ConnectionProbability(0.2), weight=2.0, delay_steps=1,
                    plastic=True)
    builder.set_background(hid, 0.01, 15.0)
    rule = PlasticityRule(
        name="test",
        neuron_traces=(NeuronTrace("pre", 10.0, 1.0, mode="set"), NeuronTrace("post", 30.0, 0.5)),
        eligibility_traces=(
            EligibilityTrace("ltp", 4.0, on_pre_trace=None, on_post_trace="pre", on_post_gain=0.7),
            EligibilityTrace("ltd", 25.0, on_pre_trace="post", on_post_trace="constant",
                             on_pre_gain=-0.4, on_post_gain=0.01),
            # metaplastic pairing threshold lowered by HT: rectified, sometimes silent
            EligibilityTrace("primed", 40.0, on_pre_trace=None, on_post_trace="pre",
                             pairing_threshold=0.6, threshold_modulator="HT",
                             threshold_shift_per_unit=0.5),
        ),
        conversions=(Conversion("ltp", "NE", 1.0), Conversion("ltd", "HT", 2.0),
                     Conversion("ltp", "HT", -0.3), Conversion("primed", "NE", 3.0)),
        w_min=-1e6, w_max=1e6, decay="exact",
    )
    ne = Modulator("NE", tau_ms=20.0, pulse_amount=0.3, pulse_period_steps=97, pulse_phase_steps=5)
    ht = Modulator("HT", tau_ms=5.0)
    net = builder.build(population_size=2, seed=4, rule=rule, modulators=[ne, ht])
    assert net._packed.epoch_steps < 200  # short eligibility -> several rebases
    net.set_source_probabilities("in", np.linspace(0.0, 0.2, 20))
    steps = 800
    release = np.zeros((steps, 2))
    release[::50, 1] = 1.0
    release[25::100, 1] = -1.5
    assert_matches_reference(net, steps, release=release)
    primed = net.eligibility()[:, 2]
    assert np.any(primed > 0), "the threshold should let some pairings through"


def test_noise_current_update_period_and_release_triggers_match_reference():
    """The Izhikevich (2007) paper-model features: uniform noise current, nearest-spike
    traces, a tonic modulator, weights converted every 10 steps, and in-kernel release
    triggers (a pre -> post pairing and a stimulus-onset spike) with random delays."""
    builder = NetworkBuilder(dt_ms=1.0, topology_seed=6)
    exc = builder.add_population("exc", 40, izhikevich_preset("RS", integration="half_steps"))
    inh = builder.add_population("inh", 10, izhikevich_preset("FS", integration="half_steps"))
    lif = builder.add_population("lif", 5, LIF(tau_m_ms=10.0))
    cue = builder.add_population("cue", 1, PoissonSource())
    builder.connect(exc, [exc, inh], FixedFanout(10), weight=1.0, plastic=True)
    builder.connect(inh, exc, FixedFanout(10), weight=-1.0)
    builder.connect(cue, exc, Explicit(np.array([55] * 5), np.arange(5)), weight=20.0)
    builder.set_noise_current([exc, inh], -6.5, 6.5)
    builder.set_noise_current(lif, 0.0, 0.2)
    builder.set_background(exc, 0.05, 20.0)
    rule = izhikevich2007_rstdp(a_minus=-0.15, trace_mode="set", gain_per_ms=0.1,
                                weight_update_period_ms=10.0, tonic_modulator="tonic",
                                eligibility_tau_ms=200.0)
    modulators = [Modulator("DA", 200.0, decay="euler"), Modulator("tonic", math.inf,
                                                                    initial=0.002)]
    probe = builder.build(rule=rule, modulators=modulators)
    syn = probe.synapse_table()
    pre, post = int(syn["pre"][0]), int(syn["post"][0])
    triggers = [
        ReleaseTrigger("DA", 0.5, neuron=post, preceded_by=pre, within_steps=19,
                       delay_steps=(20, 120)),
        ReleaseTrigger("DA", 0.3, neuron=55, delay_steps=(1, 50)),
    ]
    net = builder.build(population_size=2, seed=12, rule=rule, modulators=modulators,
                        triggers=triggers)
    net.set_source_probabilities("cue", np.full((2, 1), 0.01))
    ref = assert_matches_reference(net, 1500, chunks=(400, 1, 1099))
    for b, r in enumerate(ref):
        events = net.trigger_events(b)
        got = np.stack([events["steps"], events["trigger"], events["release_steps"]], axis=1)
        assert np.array_equal(got, r["trigger_events"]), f"network {b}: trigger events differ"
        assert set(got[:, 1]) == {0, 1}, "both triggers should fire in this test"
        assert np.array_equal(events["counts"], np.bincount(got[:, 1], minlength=2))
    w = net.weights()
    assert np.any(w[:, syn["plastic"]] != 1.0)


def test_weight_update_period_converts_only_every_period():
    """Between update steps no weight moves; over the period the change equals P dt."""
    builder = NetworkBuilder(dt_ms=1.0, topology_seed=1)
    a = builder.add_population("a", 30, izhikevich_preset("RS"))
    builder.connect(a, a, FixedFanout(5), weight=1.0, plastic=True)
    builder.set_background(a, 0.05, 20.0)
    rule = izhikevich2007_rstdp(weight_update_period_ms=10.0)
    net = builder.build(rule=rule, modulators=[Modulator("DA", math.inf, initial=0.5)])
    net.run(21)            # conversions at steps 0, 10, 20
    w21 = net.weights()
    net.run(9)             # steps 21..29: none
    assert np.array_equal(net.weights(), w21)
    net.run(1)             # step 30
    assert not np.array_equal(net.weights(), w21)


def test_lif_conductance_lif_and_sources_match_reference():
    builder = NetworkBuilder(dt_ms=0.25, topology_seed=8)
    src = builder.add_population("in", 15, PoissonSource())
    lif = builder.add_population("lif", 20, LIF(tau_m_ms=10.0, tau_syn_ms=10.0,
                                                refractory_ms=1.0))
    lif2 = builder.add_population("lif2", 10, LIF(tau_syn_ms=3.0))
    cob = builder.add_population("cob", 20, ConductanceLIF(refractory_ms=1.0))
    builder.connect(src, [lif, lif2, cob], FixedFanout(12), weight=0.25, delay_steps=1,
                    plastic=True)
    builder.connect(lif, cob, AllToAll(), weight=0.05, delay_steps=3)
    builder.connect(cob, lif, ConnectionProbability(0.3), weight=-0.1, delay_steps=2)
    builder.connect(cob, cob, Explicit(np.array([50, 51, 52]), np.array([60, 61, 50])),
                    weight=[0.3, -0.2, 0.4], delay_steps=[1, 4, 2])
    builder.set_background([lif2, cob], 0.02, 0.3)
    rule = izhikevich2007_rstdp(w_min=0.0, w_max=0.5, decay="exact")
    net = builder.build(population_size=2, seed=1, rule=rule,
                        modulators=[izhikevich2007_dopamine(pulse_period_steps=400)])
    net.set_source_probabilities("in", np.full((2, 15), 0.15))
    ref = assert_matches_reference(net, 1600)
    for model_range in ((15, 35), (35, 45), (45, 65)):
        assert np.any((ref[0]["spike_ids"] >= model_range[0]) &
                      (ref[0]["spike_ids"] < model_range[1])), model_range


def test_recording_ring_buffers_keep_the_latest():
    net = workload_w(n_neurons=80, fanout=8, input_probability=0.05, spike_capacity=50)
    full = workload_w(n_neurons=80, fanout=8, input_probability=0.05, spike_capacity=100_000)
    net.run(300)
    full.run(300)
    steps, ids = net.spikes()
    fs, fi = full.spikes()
    assert fs.size > 50 and steps.size == 50
    assert np.array_equal(steps, fs[-50:]) and np.array_equal(ids, fi[-50:])
    assert net.spike_count[0] == fs.size


def test_state_probes_sample_with_period():
    builder = NetworkBuilder()
    pop = builder.add_population("a", 5, izhikevich_preset("RS"))
    builder.set_background(pop, 0.1, 20.0)
    net = builder.build(probe_neurons=[0, 3], probe_period_steps=10, probe_capacity=7,
                        modulators=[Modulator("DA", 100.0, pulse_amount=1.0,
                                              pulse_period_steps=20)])
    net.run(95)
    p = net.probes()
    assert np.array_equal(p["steps"], np.arange(30, 95, 10))
    assert p["v"].shape == (7, 2) and p["modulators"].shape == (7, 1)
    net2 = builder.build(probe_neurons=[0, 3], probe_period_steps=1, probe_capacity=1)
    net2.run(95)
    assert np.array_equal(net2.probes()["v"][-1], net2.v[0, [0, 3]])


def test_state_dict_round_trip_continues_identically():
    a = small_w(population_size=1)
    a.run(400)
    state = a.state_dict()
    b = small_w(population_size=1)
    b.load_state_dict(state)
    a.run(300)
    b.run(300)
    assert np.array_equal(a.weights(), b.weights())
    assert np.array_equal(a.v, b.v)


def test_a_refused_state_leaves_the_network_untouched():
    """A state whose LAST key has the wrong shape, or values of the wrong kind, is refused
    with a ValueError naming the key, and nothing of it is loaded (no half-loaded state)."""
    net = small_w(population_size=1)
    net.run(200)
    before = net.state_dict()
    donor = small_w(population_size=1, seed=4)
    donor.run(350)
    keys = list(donor.state_dict())
    wrong_kind = np.full(np.shape(before[keys[0]]), "x")
    for key, bad in ((keys[-1], np.zeros((3, 1, 4))), (keys[0], wrong_kind)):
        state = dict(donor.state_dict())
        state[key] = bad
        with pytest.raises(ValueError, match=repr(key)):
            net.load_state_dict(state)
        after = net.state_dict()
        for k in before:
            assert np.array_equal(np.asarray(after[k]), np.asarray(before[k])), k


def test_float32_mode_is_compact_and_close():
    n32 = workload_w(n_neurons=200, fanout=20, dtype="float32", input_probability=0.01)
    mem = n32.memory_bytes()
    assert mem["per_plastic_synapse"] <= 32
    assert mem["per_synapse"] <= 32
    n32.run(2000)
    assert n32.weights().dtype == np.float32
    n64 = workload_w(n_neurons=200, fanout=20, dtype="float64", input_probability=0.01)
    n64.run(2000)
    # same dynamics up to rounding: similar activity and learned weights
    assert abs(int(n32.spike_count[0]) - int(n64.spike_count[0])) <= 0.05 * n64.spike_count[0]
    plastic = n64.synapse_table()["plastic"]
    assert abs(n32.weights()[0, plastic].mean() - n64.weights()[0, plastic].mean()) < 0.02


def test_engine_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys, agents.snn, agents.encoders; "
            "agents.snn.workload_w(n_neurons=20, fanout=2).run(2); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
