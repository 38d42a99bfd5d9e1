"""Bad input is refused with a clear ValueError before any kernel runs."""
from __future__ import annotations

import math

import numpy as np
import pytest

from agents.snn import (
    LIF,
    ConductanceLIF,
    EligibilityTrace,
    Explicit,
    FixedFanout,
    Izhikevich,
    Modulator,
    NetworkBuilder,
    NeuronTrace,
    PlasticityRule,
    PoissonSource,
    izhikevich2007_dopamine,
    izhikevich2007_rstdp,
    izhikevich_preset,
    workload_w,
)


def _builder():
    builder = NetworkBuilder()
    a = builder.add_population("a", 5, izhikevich_preset("RS"))
    b = builder.add_population("b", 5, PoissonSource())
    return builder, a, b


@pytest.mark.parametrize("make, field", [
    (lambda: Izhikevich(a_per_ms=math.nan), "a_per_ms"),
    (lambda: Izhikevich(a_per_ms=-0.1), "a_per_ms"),
    (lambda: LIF(tau_m_ms=-1.0), "tau_m_ms"),
    (lambda: LIF(v_thresh_mV=math.inf), "v_thresh_mV"),
    (lambda: ConductanceLIF(tau_exc_ms=0.0), "tau_exc_ms"),
    (lambda: NeuronTrace("x", -20.0, 1.0), "tau_ms"),
    (lambda: NeuronTrace("x", 20.0, math.nan), "increment"),
    (lambda: EligibilityTrace("c", math.nan, None, None), "tau_ms"),
    (lambda: Modulator("DA", -1.0), "tau_ms"),
    (lambda: izhikevich2007_rstdp(w_min=2.0, w_max=1.0), "inverted"),
    (lambda: izhikevich2007_rstdp(a_plus=math.nan), "increment"),
])
def test_bad_parameters_name_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="RS"):
        izhikevich_preset("XYZ")


def test_rule_referring_to_unknown_names():
    with pytest.raises(ValueError, match="unknown neuron trace"):
        PlasticityRule("r", (NeuronTrace("x", 10.0, 1.0),),
                       (EligibilityTrace("c", 100.0, "y", None),), (), 0.0, 1.0)
    builder, a, _ = _builder()
    builder.connect(a, a, FixedFanout(2), plastic=True, weight=0.5)
    with pytest.raises(ValueError, match="unknown modulator 'DA'"):
        builder.build(rule=izhikevich2007_rstdp(), modulators=[Modulator("NE", 10.0)])


def test_euler_decay_needs_tau_above_dt():
    builder, a, _ = _builder()
    builder.connect(a, a, FixedFanout(2), plastic=True, weight=0.5)
    with pytest.raises(ValueError, match="tau_ms"):
        builder.build(rule=izhikevich2007_rstdp(stdp_tau_ms=0.5),
                      modulators=[izhikevich2007_dopamine()])


def test_connection_errors():
    builder, a, b = _builder()
    with pytest.raises(ValueError, match="delay_steps"):
        builder.connect(a, a, FixedFanout(2), delay_steps=0)
    with pytest.raises(ValueError, match="delay_steps"):
        builder.connect(a, a, FixedFanout(2), delay_steps=-3)
    with pytest.raises(ValueError, match="integers"):
        builder.connect(a, a, FixedFanout(2), delay_steps=1.5)
    with pytest.raises(ValueError, match=r"shape \(10,\)"):
        builder.connect(a, a, FixedFanout(2), weight=np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        builder.connect(a, a, FixedFanout(2), weight=math.nan)
    with pytest.raises(ValueError, match="out of range"):
        builder.connect(np.array([0, 10]), a, FixedFanout(1))
    with pytest.raises(ValueError, match="not among the target"):
        builder.connect(a, a, Explicit(np.array([0]), np.array([7])))
    with pytest.raises(ValueError, match="equal length"):
        builder.connect(a, a, Explicit(np.array([0, 1]), np.array([2])))
    with pytest.raises(ValueError, match="exceeds"):
        builder.connect(a, a, FixedFanout(5))  # only 4 targets without autapses


def test_build_and_run_errors():
    builder, a, b = _builder()
    builder.connect(b, a, FixedFanout(2), plastic=True, weight=5.0)
    with pytest.raises(ValueError, match="need a rule"):
        builder.build()
    with pytest.raises(ValueError, match="outside the rule's bounds"):
        builder.build(rule=izhikevich2007_rstdp(), modulators=[izhikevich2007_dopamine()])
    with pytest.raises(ValueError, match="probability_per_step"):
        builder.set_background(a, 1.5, 1.0)
    net = workload_w(n_neurons=50, fanout=5, population_size=2)
    with pytest.raises(ValueError, match=r"release must have shape \(10, 1\)"):
        net.run(10, release=np.zeros((10, 2)))
    with pytest.raises(ValueError, match="finite"):
        net.run(2, release=np.full((2, 1), math.nan))
    with pytest.raises(ValueError, match="not a PoissonSource"):
        net.set_source_probabilities("exc", np.zeros(40))
    with pytest.raises(ValueError, match="unknown population"):
        net.set_source_probabilities("nope", np.zeros(40))
    with pytest.raises(ValueError, match="out of range"):
        net.spikes(5)
    with pytest.raises(ValueError, match="weights must have shape"):
        net.set_weights(np.ones(3))
    with pytest.raises(ValueError, match="dtype"):
        workload_w(n_neurons=50, fanout=5, dtype="float16")
    with pytest.raises(ValueError, match="probe_neurons"):
        b2, pa, _ = _builder()
        b2.build(probe_neurons=[99], probe_capacity=3)
    assert net.t == 0  # nothing above ran a kernel


@pytest.mark.parametrize("kwargs, field", [
    ({"delay_steps": (0, 5)}, "delay_steps"),
    ({"delay_steps": (5, 2)}, "delay_steps"),
    ({"delay_steps": (1.5, 2)}, "delay_steps"),
    ({"delay_steps": (1, 2), "amount": math.nan}, "amount"),
    ({"delay_steps": (1, 2), "neuron": -1}, "neuron"),
    ({"delay_steps": (1, 2), "within_steps": 5}, "within_steps"),
    ({"delay_steps": (1, 2), "preceded_by": 3, "within_steps": 0}, "within_steps"),
    ({"delay_steps": (1, 2), "preceded_by": 0, "within_steps": 5}, "preceded_by"),
])
def test_bad_release_triggers_name_the_field(kwargs, field):
    from agents.snn import ReleaseTrigger

    args = {"modulator": "DA", "amount": 0.5, "neuron": 0}
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        ReleaseTrigger(**args)


def test_release_trigger_checked_against_the_network():
    from agents.snn import ReleaseTrigger

    builder, _, _ = _builder()
    with pytest.raises(ValueError, match="unknown modulator"):
        builder.build(modulators=[Modulator("DA", 100.0)],
                      triggers=[ReleaseTrigger("ACh", 1.0, neuron=0, delay_steps=(1, 2))])
    with pytest.raises(ValueError, match="preceded_by"):
        builder.build(modulators=[Modulator("DA", 100.0)],
                      triggers=[ReleaseTrigger("DA", 1.0, neuron=0, preceded_by=10,
                                               within_steps=3, delay_steps=(1, 2))])


def test_noise_current_and_update_period_validation():
    builder, a, b = _builder()
    with pytest.raises(ValueError, match="current-based"):
        builder.set_noise_current(b, -1.0, 1.0)
    with pytest.raises(ValueError, match="low <= high"):
        builder.set_noise_current(a, 1.0, -1.0)
    with pytest.raises(ValueError, match="weight_update_period_ms"):
        izhikevich2007_rstdp(weight_update_period_ms=-10.0)
    builder.connect(a, a, FixedFanout(2), plastic=True)
    with pytest.raises(ValueError, match="whole number"):
        builder.build(rule=izhikevich2007_rstdp(weight_update_period_ms=2.5),
                      modulators=[izhikevich2007_dopamine()])
