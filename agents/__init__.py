"""Spiking agents of neuromod-gym: the engine (:mod:`agents.snn`), encoders, rules."""
