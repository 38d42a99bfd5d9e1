"""The ``--quick`` versions of the Izhikevich (2007) reproductions (issue 7) pass their
conservative criteria: a real effect after a shorter run (600 s, 2 seeds), and none in the
controls. The scripts print a verdict per criterion and exit 1 on any FAIL."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "reproduce"


@pytest.mark.parametrize("script", ["izhikevich_2007_distal_reward.py",
                                    "izhikevich_2007_conditioning.py"])
def test_quick_reproduction_passes(script):
    env = dict(os.environ, TQDM_DISABLE="1")
    out = subprocess.run([sys.executable, str(SCRIPTS / script), "--quick", "--no-figure"],
                         capture_output=True, text=True, env=env, timeout=600,
                         check=False)
    print(out.stdout)
    assert "CRITERION" in out.stdout
    verdicts = [line for line in out.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(verdicts) == 2, out.stdout + out.stderr
    assert out.returncode == 0 and "VERDICT: PASS" in out.stdout, out.stdout + out.stderr
