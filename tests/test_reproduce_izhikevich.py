"""The ``--quick`` versions of the Izhikevich (2007) reproductions (issue 7) pass their
conservative criteria: a real effect after a shorter run (600 s, 2 seeds), and none in the
controls. The scripts print a verdict per criterion and exit 1 on any FAIL."""
from __future__ import annotations

import pytest

from tests.reproduction_run import run_quick


@pytest.mark.parametrize("script", ["izhikevich_2007_distal_reward.py",
                                    "izhikevich_2007_conditioning.py"])
def test_quick_reproduction_passes(script):
    run_quick(script, 2)
