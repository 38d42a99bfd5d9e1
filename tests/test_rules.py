"""Rule presets: registry, bad input, and generic kernel == paper-equation reference."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agents.rules import RULES, get_params, get_rule, rule_names, widen_window
from agents.snn import FixedFanout, Modulator, NetworkBuilder, PoissonSource, izhikevich_preset
from tests.reference import rules_reference

# Bounds that bind are exercised where every conversion has one sign between touches
# (touch-time clipping == per-step clipping, see agents/snn/plasticity.py); rules with
# opposite-signed conversions get bounds that never bind.
CASES = {
    "rstdp": dict(w_min=0.0, w_max=6.5),
    "exponential": dict(w_min=0.0, w_max=6.5),
    "mstdp": dict(w_min=0.0, w_max=6.5, learning_rate=0.5),
    "mstdp_et": dict(w_min=0.0, w_max=6.5, learning_rate=5.0),
    "td_ltp": dict(w_min=-1e6, w_max=1e6, learning_rate=0.05),
    "brzosko": dict(w_min=-1e6, w_max=1e6, learning_rate=0.002),
    "he": dict(w_min=-1e6, w_max=1e6, learning_rate=0.002),
    "yagishita": dict(w_min=-1e6, w_max=1e6, learning_rate=0.5),
    "priming": dict(w_min=0.0, w_max=6.5, learning_rate=0.5, ltp_threshold=0.3),
}


def test_every_registered_rule_has_a_reference_case():
    assert set(CASES) == set(RULES) and set(RULES) <= set(rules_reference.REFERENCES)


def _random_network(rule, modulator_names, population_size=2, seed=0):
    builder = NetworkBuilder(dt_ms=1.0, topology_seed=seed)
    src = builder.add_population("in", 12, PoissonSource())
    hid = builder.add_population("hid", 10, izhikevich_preset("RS"))
    rng = np.random.default_rng(seed)
    n = builder.connect(src, hid, FixedFanout(5), weight=rng.uniform(4.0, 6.0, 60),
                        delay_steps=rng.integers(1, 4, 60), plastic=True)
    assert n == 60
    builder.connect(hid, hid, FixedFanout(3), weight=3.0, delay_steps=1, plastic=True)
    builder.set_background(hid, 0.02, 12.0)
    mods = [Modulator(m, tau_ms=0.0) for m in modulator_names]
    net = builder.build(population_size=population_size, seed=seed + 1, rule=rule, modulators=mods)
    net.set_source_probabilities("in", np.full((population_size, 12), 0.04))
    return net


@pytest.mark.parametrize("name", sorted(CASES))
def test_generic_kernel_equals_paper_reference(name):
    params = get_params(name, **CASES[name])
    rule = params.build()
    mod_names = list(params.modulators)
    net = _random_network(rule, mod_names)
    B, T = net.population_size, 800
    rng = np.random.default_rng(7)
    # Per-network modulator levels: sparse signed pulses (signs flip, zeros in between).
    release = np.zeros((B, T, len(mod_names)))
    for b in range(B):
        for m in range(len(mod_names)):
            on = rng.random(T) < 0.3
            release[b, :, m] = np.where(on, rng.normal(0.3, 0.5, T), 0.0)
    table = net.synapse_table()
    w0 = net.weights()
    net.run(T, release=release)
    w = net.weights()
    plastic = table["plastic"]
    for b in range(B):
        steps, ids = net.spikes(b)
        raster = np.zeros((T, net.n_neurons), dtype=bool)
        raster[steps, ids] = True
        assert raster[:, 12:].sum() > 20, "post neurons must spike for a meaningful test"
        mods = {m: release[b, :, k] for k, m in enumerate(mod_names)}
        ref = rules_reference.simulate(name, params, raster, table["pre"][plastic],
                                       table["post"][plastic], w0[b, plastic], mods, 1.0)
        assert np.max(np.abs(w0[b, plastic] - ref)) > 1e-3, "rule did not change weights"
        np.testing.assert_allclose(w[b, plastic], ref, rtol=0, atol=1e-9)
    if name in ("rstdp", "exponential", "mstdp", "mstdp_et"):
        assert np.any(w[:, plastic] == params.w_max) or np.any(w[:, plastic] == params.w_min)


def test_unknown_rule_name_lists_known_ones():
    with pytest.raises(ValueError) as err:
        get_rule("stdp_deluxe")
    for name in rule_names():
        assert name in str(err.value)


@pytest.mark.parametrize("name", sorted(RULES))
def test_bad_parameters_are_refused_with_the_field_named(name):
    fields = RULES[name].__dataclass_fields__
    tau = next(f for f in fields if f.endswith("_ms") and f != "dt_ms")
    with pytest.raises(ValueError, match=tau):
        get_rule(name, **{tau: -5.0})
    with pytest.raises(ValueError, match=tau):
        get_rule(name, **{tau: math.nan})
    gain = next(f for f in ("learning_rate", "a_plus", "amplitude") if f in fields)
    with pytest.raises(ValueError, match=gain):
        get_rule(name, **{gain: math.nan})
    with pytest.raises(ValueError, match="inverted"):
        get_rule(name, w_min=2.0, w_max=1.0)
    with pytest.raises(ValueError, match="parameters"):
        get_rule(name, no_such_parameter=1.0)


def test_window_widening_scales_stdp_time_constants_only():
    rule = get_rule("rstdp")
    wide = widen_window(rule, 2.0)
    assert [t.tau_ms for t in wide.neuron_traces] == [40.0, 40.0]
    assert wide.eligibility_traces == rule.eligibility_traces
    with pytest.raises(ValueError, match="scale"):
        widen_window(rule, 0.0)


def test_rise_decay_ordering_is_checked():
    with pytest.raises(ValueError, match="eligibility_rise_tau_ms"):
        get_rule("yagishita", eligibility_rise_tau_ms=2000.0)
    with pytest.raises(ValueError, match="psp_rise_tau_ms"):
        get_rule("td_ltp", psp_rise_tau_ms=30.0)
