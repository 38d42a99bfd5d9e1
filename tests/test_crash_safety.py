"""Crash safety of the sweep: SIGKILL at any moment loses at most the running cells.

* A sweep (process pool of 2) is SIGKILLed at a random moment five times in a row, each
  time resumed by a fresh process; after every kill each file under its final name is
  complete (config.json, every cell file, results.csv if present), and the final resume
  gives the table of an uninterrupted run: every cell exactly once, nothing missing.
* A kill in the middle of writing a cell file (the write is stalled half-way on purpose,
  in the child, by wrapping the file handle) leaves no partial file under a name the
  resume reads: the cell is recomputed and the table is complete.

``test_experiments`` already kills one in-process sweep once after two cells; these
tests kill at random moments (imports, config, mid-cell, mid-write), repeatedly, with
worker processes.
"""
from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from neuromod_gym.experiments.sweep import TIMING_COLUMNS, cell_path, run_sweep

SWEEP = dict(tasks=["CartPole-v1"], agents=["twin"], seeds=16, budget=300, eval_every=150,
             eval_episodes=2)
N_CELLS = 16
KILLS = 5


def _untimed_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS}
                for row in csv.DictReader(handle)]


def _sweep_script(out: Path, workers: int, prelude: str = "") -> str:
    return prelude + textwrap.dedent(f"""
        from neuromod_gym.experiments.sweep import run_sweep
        run_sweep(out={str(out)!r}, workers={workers}, progress=False, **{SWEEP!r})
    """)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: its cell files and table, and the seconds per cell."""
    out = tmp_path_factory.mktemp("reference")
    started = time.perf_counter()
    run_sweep(out=out, workers=1, progress=False, **SWEEP)
    seconds_per_cell = (time.perf_counter() - started) / N_CELLS
    cells = {p.name: _untimed_csv(p) for p in (out / "cells").glob("*.csv")}
    assert len(cells) == N_CELLS
    return {"cells": cells, "results": _untimed_csv(out / "results.csv"),
            "config": json.loads((out / "config.json").read_text()),
            "seconds_per_cell": seconds_per_cell}


def assert_every_visible_file_is_complete(out: Path, reference: dict) -> int:
    """Files under their final names are whole; -> number of finished cells."""
    config = out / "config.json"
    if config.exists():
        assert json.loads(config.read_text())["sweep"] == reference["config"]["sweep"]
    cells = sorted((out / "cells").glob("*.csv")) if (out / "cells").exists() else []
    for path in cells:
        assert path.name in reference["cells"], f"unexpected cell file {path.name}"
        assert _untimed_csv(path) == reference["cells"][path.name], (
            f"{path.name} is not the complete cell")
    if (out / "results.csv").exists():
        assert _untimed_csv(out / "results.csv") == reference["results"]
    return len(cells)


def assert_complete_table(out: Path, reference: dict) -> None:
    rows = _untimed_csv(out / "results.csv")
    assert rows == reference["results"]
    evals = [(r["seed"], r["step"]) for r in rows if r["kind"] == "eval"]
    assert len(evals) == len(set(evals)) == N_CELLS * 3, "duplicated or missing evaluations"
    for seed in range(N_CELLS):
        assert cell_path(out, "CartPole-v1", "twin", seed).exists()


def test_sigkill_at_random_moments_then_resume_gives_the_complete_table(tmp_path, reference):
    out = tmp_path / "killed"
    rng = random.Random(20261122)
    landed_mid_sweep = 0
    for attempt in range(KILLS):
        done_before = assert_every_visible_file_is_complete(out, reference)
        process = subprocess.Popen([sys.executable, "-c", _sweep_script(out, workers=2)],
                                   start_new_session=True)
        # A random moment: after 0 or 1 further finished cells, plus a random part of a cell.
        wait_for = done_before + rng.randint(0, 1)
        deadline = time.monotonic() + 300
        while (process.poll() is None and time.monotonic() < deadline
               and len(list((out / "cells").glob("*.csv"))) < wait_for):
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, reference["seconds_per_cell"]))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            landed_mid_sweep += 1
        process.wait()
        assert_every_visible_file_is_complete(out, reference)
    assert landed_mid_sweep == KILLS, "a sweep finished before its kill: lengthen the sweep"
    assert not (out / "results.csv").exists()
    resumed = subprocess.run([sys.executable, "-c", _sweep_script(out, workers=2)],
                             timeout=600)
    assert resumed.returncode == 0
    assert_complete_table(out, reference)


# A child that stalls half-way through its N-th cell-file write (flushed to disk), so the
# parent can kill it mid-write deterministically. io.open is wrapped, which covers every
# way the writer could open the file (open, Path.open, and os.fdopen, which calls io.open).
STALL_PRELUDE = textwrap.dedent("""
    import builtins, io, os, sys, time

    STALL_AT = int(os.environ["STALL_AT_CELL_WRITE"])
    writes = {"cells": 0}

    class StallingFile:
        def __init__(self, handle):
            self._handle = handle

        def write(self, text):
            if isinstance(text, str) and text.startswith("task,agent,"):
                writes["cells"] += 1
                if writes["cells"] == STALL_AT:
                    self._handle.write(text[: len(text) // 2])
                    self._handle.flush()
                    os.fsync(self._handle.fileno())
                    print("STALLED", flush=True)
                    time.sleep(600)
            return self._handle.write(text)

        def __getattr__(self, name):
            return getattr(self._handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self._handle.__exit__(*exc)

    def wrap(opener):
        def opened(*args, **kwargs):
            mode = args[1] if len(args) > 1 else kwargs.get("mode", "r")
            handle = opener(*args, **kwargs)
            return StallingFile(handle) if "w" in mode and "b" not in mode else handle
        return opened

    builtins.open = io.open = wrap(io.open)
""")


def test_kill_in_the_middle_of_a_cell_write_leaves_nothing_half_written(tmp_path, reference):
    out = tmp_path / "midwrite"
    env = {**os.environ, "STALL_AT_CELL_WRITE": "3"}
    process = subprocess.Popen([sys.executable, "-c", _sweep_script(out, 1, STALL_PRELUDE)],
                               start_new_session=True, stdout=subprocess.PIPE, text=True,
                               env=env)
    try:
        line = process.stdout.readline()
        assert line.strip() == "STALLED", f"the child did not reach its third cell write: {line!r}"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert assert_every_visible_file_is_complete(out, reference) == 2
    run_sweep(out=out, workers=1, progress=False, **SWEEP)
    assert_complete_table(out, reference)
