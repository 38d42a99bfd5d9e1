"""Metaplasticity as a threshold shift (the 'priming' preset)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agents.neuromodulators import default_kinetics, dopamine
from agents.protocols import ModulatorPulse, PairingProtocol, run_protocols
from agents.rules import get_params, get_rule

WEAK = PairingProtocol(offset_ms=10.0)                                # x = 0.61 < 0.8
STRONG = PairingProtocol(offset_ms=5.0, n_pairings=3, rate_hz=100.0)  # x sums to 1.3
DA_AFTER = ModulatorPulse("DA", 500.0, 0.5)


def _kinetics():
    kin = default_kinetics()
    kin["DA"] = dopamine(tonic_baseline=0.0)
    return kin


def test_weak_pairing_needs_priming_strong_pairing_does_not():
    rule = get_rule("priming")
    weak = run_protocols(rule, WEAK, [[DA_AFTER], [ModulatorPulse("priming", -1000.0), DA_AFTER]],
                         kinetics=_kinetics()).dw
    strong = run_protocols(rule, STRONG, [[DA_AFTER]], kinetics=_kinetics()).dw
    assert weak[0] == 0.0          # too weak to change w on its own
    assert weak[1] > 0.01          # primed 1 s before: LTP
    assert strong[0] > 0.01        # a threshold, not a gate: strong pairings need no priming


def test_priming_effect_decays_with_delay_along_tau_prime():
    rule = get_rule("priming")
    tau = default_kinetics()["priming"].decay_tau_ms
    d0 = 500.0
    delays = [d0, d0 + tau / 2, d0 + tau, 40_000.0]
    dw = run_protocols(rule, WEAK, [[ModulatorPulse("priming", -d), DA_AFTER] for d in delays],
                       kinetics=_kinetics()).dw
    assert dw[0] > dw[1] > dw[2] > 0.0
    assert dw[3] == 0.0            # long after: the threshold is back, no LTP
    # above threshold dw is linear in exp(-d/tau): successive differences ratio e^(1/2)
    assert (dw[0] - dw[1]) / (dw[1] - dw[2]) == pytest.approx(math.exp(0.5), rel=1e-3)


def test_threshold_parameters_are_validated():
    with pytest.raises(ValueError, match="ltp_threshold"):
        get_rule("priming", ltp_threshold=math.nan)
    assert get_params("priming").modulators == ("DA", "priming")


def test_thresholded_rule_matches_the_engine_reference_with_two_networks():
    """The engine's pairing threshold equals tests/reference/snn_reference.py (B = 2,
    thresholds moved by a modulator that differs per network)."""
    from agents.snn import Modulator
    from tests.reference.snn_reference import describe, simulate
    from tests.test_rules import _random_network

    rule = get_rule("priming", ltp_threshold=0.3, learning_rate=0.5, w_min=0.0, w_max=6.5)
    net = _random_network(rule, ["DA", "priming"])
    T = 600
    rng = np.random.default_rng(3)
    release = np.zeros((2, T, 2))
    release[:, :, 0] = np.where(rng.random((2, T)) < 0.3, rng.normal(0.2, 0.4, (2, T)), 0.0)
    release[0, :, 1] = 0.25 * (1 + np.sin(np.arange(T) / 40.0))
    desc = describe(net)
    net.run(T, release=release)
    ref = simulate(desc, T, release=release)
    w = net.weights()
    for b in range(2):
        assert np.array_equal(net.spikes(b)[1], ref[b]["spike_ids"])
        np.testing.assert_allclose(w[b], ref[b]["weights"], rtol=0, atol=1e-9)
    plastic = net.synapse_table()["plastic"]
    assert not np.allclose(w[0, plastic], w[1, plastic])  # the shift mattered
