"""The ``--quick`` version of the Fremaux, Sprekeler & Gerstner (2013) open-field script
(issue 7, item 6) passes its conservative criterion: on 2 seeds of 50 trials the spiking TD
actor-critic's latency ratio (median of trials 46-50 / trials 1-5) is <= 0.35 in both, and
the critic-free ablation's ratio is above the actor-critic's in both seeds. The full
criterion is measured by the script over 10 seeds (BENCHMARKS.md)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reproduce" / "fremaux_2013_open_field.py"


def test_quick_open_field_reproduction_passes():
    env = dict(os.environ, TQDM_DISABLE="1")
    out = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--no-figure", "--threads", "2"],
                         capture_output=True, text=True, env=env, timeout=600, check=False)
    print(out.stdout)
    assert "CRITERION" in out.stdout
    verdicts = [line for line in out.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 2, out.stdout + out.stderr
    assert out.returncode == 0 and "VERDICT: PASS" in out.stdout, out.stdout + out.stderr
