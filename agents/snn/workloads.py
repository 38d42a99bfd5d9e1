"""Workload W (``/work/shared/WORKLOAD_W.md``): the engine's reference speed benchmark.

1000 Izhikevich neurons (800 RS excitatory, 200 FS inhibitory), forward Euler at 1 ms,
Bernoulli(0.002) per-step input pulses of I = 20, 100 distinct random targets per neuron
(excitatory -> any neuron but itself, inhibitory -> excitatory only), delay 1 step,
excitatory weights 1.0 plastic in [0, 4] under Izhikevich (2007) R-STDP, inhibitory
weights -2.0 fixed; dopamine decays by (1 - dt/200 ms) and gains 0.5 every 1000 steps.
The scale-up variant has 10,000 neurons (1,000,000 synapses).
"""
from __future__ import annotations

from agents.snn.connectivity import FixedFanout
from agents.snn.models import izhikevich_preset
from agents.snn.network import Network, NetworkBuilder
from agents.snn.plasticity import izhikevich2007_dopamine, izhikevich2007_rstdp

__all__ = ["workload_w"]


def workload_w(
    n_neurons: int = 1000,
    fanout: int = 100,
    population_size: int = 1,
    seed: int = 0,
    topology_seed: int = 0,
    dtype: str = "float64",
    network_indices=None,
    input_probability: float = 0.002,
    input_current: float = 20.0,
    spike_capacity: int = 0,
) -> Network:
    """Build Workload W (80 % excitatory RS, 20 % inhibitory FS) with ``n_neurons``."""
    n_exc = n_neurons * 4 // 5
    builder = NetworkBuilder(dt_ms=1.0, topology_seed=topology_seed)
    exc = builder.add_population("exc", n_exc, izhikevich_preset("RS"))
    inh = builder.add_population("inh", n_neurons - n_exc, izhikevich_preset("FS"))
    builder.connect(exc, [exc, inh], FixedFanout(fanout), weight=1.0, delay_steps=1, plastic=True)
    builder.connect(inh, exc, FixedFanout(fanout), weight=-2.0, delay_steps=1, plastic=False)
    builder.set_background([exc, inh], input_probability, input_current)
    return builder.build(
        population_size=population_size,
        seed=seed,
        network_indices=network_indices,
        dtype=dtype,
        rule=izhikevich2007_rstdp(),
        modulators=[izhikevich2007_dopamine()],
        spike_capacity=spike_capacity,
    )
