"""Slow, obviously correct reference implementations used to check the numba kernels."""
