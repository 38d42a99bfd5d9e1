"""The ``--quick`` version of the Fremaux, Sprekeler & Gerstner (2013) open-field script
(issue 7, item 6) passes its conservative criterion: on 2 seeds of 50 trials the spiking TD
actor-critic's latency ratio (median of trials 46-50 / trials 1-5) is <= 0.35 in both, and
the critic-free ablation's ratio is above the actor-critic's in both seeds. The full
criterion is measured by the script over 10 seeds (BENCHMARKS.md)."""
from __future__ import annotations

from tests.reproduction_run import run_quick


def test_quick_open_field_reproduction_passes():
    run_quick("fremaux_2013_open_field.py", 2, "--threads", "2")
