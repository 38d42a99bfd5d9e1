"""Spiking engine: numba kernels and the network container (issue 3).

Public API::

    NetworkBuilder, Network, Population                  network.py
    PoissonSource, Izhikevich, LIF, ConductanceLIF,      models.py
    IZHIKEVICH_PRESETS, izhikevich_preset
    FixedFanout, ConnectionProbability, AllToAll,        connectivity.py
    Explicit
    NeuronTrace, EligibilityTrace, Conversion,           plasticity.py
    PlasticityRule, Modulator, ReleaseTrigger,
    izhikevich2007_rstdp, izhikevich2007_dopamine
    workload_w                                           workloads.py

The engine never imports torch.
"""
from agents.snn.connectivity import AllToAll, ConnectionProbability, Explicit, FixedFanout
from agents.snn.models import (
    IZHIKEVICH_PRESETS,
    LIF,
    ConductanceLIF,
    Izhikevich,
    PoissonSource,
    izhikevich_preset,
)
from agents.snn.network import Network, NetworkBuilder, Population
from agents.snn.plasticity import (
    Conversion,
    EligibilityTrace,
    Modulator,
    NeuronTrace,
    PlasticityRule,
    ReleaseTrigger,
    izhikevich2007_dopamine,
    izhikevich2007_rstdp,
)
from agents.snn.workloads import workload_w

__all__ = [
    "NetworkBuilder", "Network", "Population",
    "PoissonSource", "Izhikevich", "LIF", "ConductanceLIF", "IZHIKEVICH_PRESETS",
    "izhikevich_preset",
    "FixedFanout", "ConnectionProbability", "AllToAll", "Explicit",
    "NeuronTrace", "EligibilityTrace", "Conversion", "PlasticityRule", "Modulator",
    "ReleaseTrigger",
    "izhikevich2007_rstdp", "izhikevich2007_dopamine",
    "workload_w",
]
