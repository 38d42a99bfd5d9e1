"""One way to run a reproduction's ``--quick`` version in a test (issue 7): the script in a
subprocess, as a user runs it, and the checks every reproduction promises."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "reproduce"


def run_quick(script: str, n_criteria: int, *extra: str, timeout: int = 600) -> str:
    """Run ``scripts/reproduce/<script> --quick --no-figure [extra]`` and assert that it
    prints its criterion, exactly ``n_criteria`` PASS / FAIL lines, ``VERDICT: PASS`` and
    exits 0; -> its standard output."""
    env = dict(os.environ, TQDM_DISABLE="1")
    out = subprocess.run([sys.executable, str(SCRIPTS / script), "--quick", "--no-figure",
                          *extra],
                         capture_output=True, text=True, env=env, timeout=timeout, check=False)
    print(out.stdout)
    assert "CRITERION" in out.stdout
    verdicts = [line for line in out.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert len(verdicts) == n_criteria, out.stdout + out.stderr
    assert out.returncode == 0 and "VERDICT: PASS" in out.stdout, out.stdout + out.stderr
    return out.stdout
