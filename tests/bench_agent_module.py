"""``scripts/bench_agent.py`` loaded once as a module, for the learning tests that score
with the benchmark's own functions (one home for each claim's definition)."""
from __future__ import annotations

import importlib.util
import pathlib


def _load():
    path = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "bench_agent.py"
    spec = importlib.util.spec_from_file_location("bench_agent", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load()
