#!/usr/bin/env python3
"""Workload W in Brian2 (cpp_standalone), for the side-by-side speed comparison.

Workload W is specified in ``shared/WORKLOAD_W.md``; ``scripts/bench_engine.py --brian2``
calls :func:`run_brian2_comparison`. Brian2 is never a dependency of neuromod-gym: Brian2 2.9
(the newest release for Python 3.11) fails to import with numpy >= 2.4, so this script
creates, once, a dedicated venv (default ``<repo>/.bench_venvs/brian2``, git-ignored) with
``brian2==2.9.*`` and ``numpy<2.4`` and runs itself there in ``--worker`` mode::

    python scripts/brian2_workload_w.py                  # parent: venv + worker, prints JSON
    python scripts/brian2_workload_w.py --n 10000 --duration 1     # scale-up variant
    <venv>/bin/python scripts/brian2_workload_w.py --worker --n 1000 --duration 10

The worker prints exactly one JSON line on stdout (everything else goes to stderr).

What is timed (all wall-clock seconds unless stated):

* ``python_setup_s``: building the Brian2 objects in Python, including drawing the random
  connectivity with numpy.
* ``codegen_s``: ``device.build(compile=True, run=False)`` minus Brian2's own timer of the
  ``make`` call: code generation and writing the project and its static arrays to disk.
* ``compile_s``: Brian2's timer of ``make`` (g++ with Brian2's default flags
  ``-O3 -ffast-math -march=native ...``; ``make -j`` may use both cores, this is build time).
* ``build_s`` = ``codegen_s + compile_s``.
* ``run_wall_s`` (one entry per repeat, after one untimed warm-up run of the binary) and
  ``run_wall_median_s``: CLOCK_MONOTONIC wall time measured inside the compiled binary
  around ``Network::run`` only, i.e. the simulation loop of all steps. It excludes process
  start, loading the connectivity and state arrays, spike-queue preparation and writing
  the results. ``real_time_factor`` = duration / ``run_wall_median_s`` and
  ``synaptic_events_per_s`` = total_spikes * 100 / ``run_wall_median_s`` use this number.
* ``run_cpu_s``: Brian2's own ``last_run_info`` timer of the same loop (``std::clock``,
  i.e. process CPU time, because no OpenMP is used).
* ``run_process_s``: wall time of the whole ``main`` process (``device.run``), including
  start-up, array loading and result writing.

The binary is single-threaded (``devices.cpp_standalone.openmp_threads = 0``), matching
the "one core" figures of Workload W. Every repeat runs the identical binary with the same
seed, so it produces the identical spike count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV_DIR = REPO_ROOT / ".bench_venvs" / "brian2"
BRIAN2_REQUIREMENTS = ("brian2==2.9.*", "numpy<2.4")
_MARKER = ".neuromod_brian2_ready"

# ---------------------------------------------------------------------------------------
# Workload W constants (shared/WORKLOAD_W.md). Everything is per ms, dt = 1 ms.
# ---------------------------------------------------------------------------------------
EXC_FRACTION = 0.8  # first 80 % excitatory (regular spiking), last 20 % inhibitory (FS)
FAN_OUT = 100  # distinct random targets per neuron
P_INPUT = 0.002  # per neuron, per step
I_INPUT = 20.0
V_PEAK = 30.0
V_RESET = -65.0
RS = dict(a=0.02, b=0.2, d=8.0)
FS = dict(a=0.1, b=0.2, d=2.0)
W_EXC_INIT = 1.0
W_MIN, W_MAX = 0.0, 4.0
W_INH = -2.0
TAU_TRACE_MS = 20.0
A_PLUS = 0.1  # added to the presynaptic neuron's trace per pre spike
A_MINUS = -0.12  # added to the postsynaptic neuron's trace per post spike
TAU_C_MS = 1000.0
TAU_DA_MS = 200.0
DA_PULSE = 0.5
DA_PERIOD_STEPS = 1000
EXPECTED_RATE_HZ = 1.8


# ---------------------------------------------------------------------------------------
# Parent side: venv management and subprocess call.
# ---------------------------------------------------------------------------------------
def _venv_python(venv_dir: Path) -> Path:
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def _log(msg: str) -> None:
    print(f"[brian2] {msg}", file=sys.stderr, flush=True)


def _child_stdout_target() -> Any:
    """Where pip's output goes: our stderr if it is a real file, else inherit."""
    try:
        sys.stderr.flush()
        sys.stderr.fileno()
        return sys.stderr
    except (AttributeError, OSError, ValueError):
        return None


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # Keep the caller's packages (e.g. numpy >= 2.4) out of the Brian2 venv.
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
        env.pop(key, None)
    env["PYTHONNOUSERSITE"] = "1"
    env["OMP_NUM_THREADS"] = "1"
    return env


def ensure_brian2_venv(venv_dir: str | os.PathLike[str] | None = None) -> Path:
    """Create (once) the dedicated Brian2 venv and return its python executable."""
    vdir = Path(venv_dir) if venv_dir is not None else DEFAULT_VENV_DIR
    vdir = vdir.expanduser().resolve()
    py = _venv_python(vdir)
    marker = vdir / _MARKER
    wanted = " ".join(BRIAN2_REQUIREMENTS)
    if py.exists() and marker.exists() and marker.read_text().strip() == wanted:
        return py
    if shutil.which("g++") is None and shutil.which("c++") is None:
        raise RuntimeError(
            "Brian2's cpp_standalone target needs a C++ compiler (g++), none found on PATH"
        )
    out = _child_stdout_target()
    env = _clean_env()
    if not py.exists():
        _log(f"creating venv {vdir} (once) with {sys.executable}")
        vdir.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(vdir)], check=True, stdout=out, env=env)
    _log(f"installing {wanted} into {vdir} (once; pip output follows)")
    subprocess.run(
        [str(py), "-m", "pip", "install", "--disable-pip-version-check", *BRIAN2_REQUIREMENTS],
        check=True,
        stdout=out,
        env=env,
    )
    check = subprocess.run(
        [str(py), "-c", "import brian2, numpy; print(brian2.__version__, numpy.__version__)"],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    _log(f"venv ready: brian2 / numpy = {check.stdout.strip()}")
    marker.write_text(wanted + "\n")
    return py


def run_brian2_comparison(
    n_neurons: int = 1000,
    duration_s: float = 10.0,
    repeats: int = 3,
    venv_dir: str | None = None,
) -> dict:
    """Run Workload W in Brian2 cpp_standalone in its own venv and return the figures.

    Creates the venv on first use (see :func:`ensure_brian2_venv`), then runs this file
    with the venv's python in ``--worker`` mode and returns the parsed JSON: build figures
    (``codegen_s``, ``compile_s``, ``build_s``), ``run_wall_s`` per repeat and
    ``run_wall_median_s``, ``real_time_factor``, ``total_spikes``, ``mean_rate_hz``,
    ``synaptic_events_per_s``, ``brian2_version``, ``target`` (``"cpp_standalone"``)
    and more; the module docstring says exactly what each timer covers.
    Raises ``RuntimeError`` if the venv cannot be made or the worker fails.
    """
    if n_neurons < 10 or n_neurons * (1 - EXC_FRACTION) < 1:
        raise ValueError(f"n_neurons must be >= 10, got {n_neurons}")
    if not duration_s > 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    py = ensure_brian2_venv(venv_dir)
    cmd = [
        str(py),
        str(Path(__file__).resolve()),
        "--worker",
        "--n",
        str(int(n_neurons)),
        "--duration",
        repr(float(duration_s)),
        "--repeats",
        str(int(repeats)),
    ]
    _log(f"running worker: n={n_neurons}, duration={duration_s} s, repeats={repeats}")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=_clean_env())
    if proc.returncode != 0:
        raise RuntimeError(f"Brian2 worker failed with exit code {proc.returncode}")
    for line in reversed(proc.stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"Brian2 worker printed no JSON line; stdout was: {proc.stdout!r}")


# ---------------------------------------------------------------------------------------
# Worker side: runs inside the Brian2 venv.
# ---------------------------------------------------------------------------------------
def draw_connectivity(n_neurons: int, seed: int):
    """Fixed fan-out random connectivity of Workload W, as numpy index arrays.

    Returns ``(exc_i, exc_j, inh_i, inh_j)``: excitatory source ``i`` in [0, Ne) -> any
    target but itself; inhibitory source ``i`` in [0, Ni) (neuron Ne + i) -> excitatory
    targets only; every source has ``FAN_OUT`` distinct targets.
    """
    import numpy as np

    n_exc = int(round(EXC_FRACTION * n_neurons))
    n_inh = n_neurons - n_exc
    if n_neurons - 1 < FAN_OUT or n_exc < FAN_OUT:
        raise ValueError(f"n_neurons={n_neurons} is too small for {FAN_OUT} distinct targets")
    rng = np.random.default_rng(seed)
    exc_j = np.empty((n_exc, FAN_OUT), dtype=np.int32)
    for i in range(n_exc):
        k = rng.choice(n_neurons - 1, size=FAN_OUT, replace=False)
        exc_j[i] = k + (k >= i)  # skip self
    inh_j = np.empty((n_inh, FAN_OUT), dtype=np.int32)
    for i in range(n_inh):
        inh_j[i] = rng.choice(n_exc, size=FAN_OUT, replace=False)
    exc_i = np.repeat(np.arange(n_exc, dtype=np.int32), FAN_OUT)
    inh_i = np.repeat(np.arange(n_inh, dtype=np.int32), FAN_OUT)
    return exc_i, exc_j.ravel(), inh_i, inh_j.ravel()


def _worker(args: argparse.Namespace) -> dict:
    # Keep stdout for the single JSON line: Brian2, make and the binary print elsewhere.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    t_setup = time.perf_counter()
    import numpy as np

    try:
        import brian2
    except ImportError as exc:  # pragma: no cover - only outside the dedicated venv
        raise SystemExit(
            f"--worker needs brian2 ({exc}); run without --worker to use the dedicated venv"
        ) from exc
    from brian2 import (
        NeuronGroup,
        SpikeMonitor,
        Synapses,
        TimedArray,
        defaultclock,
        device,
        ms,
        prefs,
        run,
        seed,
        set_device,
    )

    build_dir = Path(args.build_dir) if args.build_dir else Path(tempfile.mkdtemp(prefix="brian2_w_"))
    build_dir = build_dir.resolve()
    set_device("cpp_standalone", build_on_run=False, directory=str(build_dir))
    prefs.devices.cpp_standalone.openmp_threads = 0  # single thread: "one core"
    prefs.logging.console_log_level = "WARNING"

    n = int(args.n)
    n_exc = int(round(EXC_FRACTION * n))
    n_inh = n - n_exc
    duration_ms = float(args.duration) * 1000.0
    steps = int(round(duration_ms))
    defaultclock.dt = 1 * ms
    seed(args.seed)

    # ---- neurons -------------------------------------------------------------------
    # Forward Euler at dt = 1 ms. Brian2's 'euler' state updater generates, for this
    # system (checked with brian2.euler(eqs), see --show-update):
    #   _u = a*dt*(b*v - u)/ms + u
    #   _v = dt*(I_syn - u + 0.04*v**2 + 5*v + 140 + 20*int(rand() < 0.002))/ms + v
    #   _apre = -apre*dt/(20*ms) + apre  (the same for apost)
    #   u = _u; v = _v; apre = _apre; ...
    # i.e. exactly the discrete map v += dt*f(v, u, I), u += dt*a*(b*v - u) from the old
    # (v, u), traces *= (1 - dt/20 ms) (equal up to floating-point rounding; dt/ms = 1).
    # I_ext is drawn once per neuron per step ('constant over dt'): 20 with p = 0.002.
    eqs = f"""
    dv/dt = (0.04*v**2 + 5*v + 140 - u + I_ext + I_syn)/ms : 1
    du/dt = a*(b*v - u)/ms : 1
    dapre/dt = -apre/({TAU_TRACE_MS}*ms) : 1
    dapost/dt = -apost/({TAU_TRACE_MS}*ms) : 1
    I_ext = {I_INPUT}*int(rand() < {P_INPUT}) : 1 (constant over dt)
    I_syn : 1
    a : 1 (constant)
    b : 1 (constant)
    d : 1 (constant)
    """
    G = NeuronGroup(
        n,
        eqs,
        threshold=f"v >= {V_PEAK}",
        reset=f"v = {V_RESET}; u += d; apre += {A_PLUS}; apost += {A_MINUS}",
        method="euler",
        name="izh",
    )
    is_exc = np.arange(n) < n_exc
    b_arr = np.where(is_exc, RS["b"], FS["b"])
    G.a = np.where(is_exc, RS["a"], FS["a"])
    G.b = b_arr
    G.d = np.where(is_exc, RS["d"], FS["d"])
    G.v = V_RESET  # initial state (not fixed by the spec): v = -65, u = b*v
    G.u = b_arr * V_RESET
    # Synaptic input that arrived during the previous step is consumed by this step's
    # Euler update and then cleared (same slot, after the state updater).
    G.run_regularly("I_syn = 0", when="groups", order=1, name="izh_clear_isyn")

    # ---- synapses ------------------------------------------------------------------
    exc_i, exc_j, inh_i, inh_j = draw_connectivity(n, args.seed)
    # Transmission has Brian2 delay 0 but writes into I_syn, which only enters the NEXT
    # step's Euler update: a spike detected at step k changes v at step k+1 = delay of
    # 1 step, the input entering as current (I), not as a jump of v.
    # Plasticity, default (--plasticity clock): the per-step clip of w (and the per-step
    # decay of c) is done clock-driven: every step touches all Ne*100 plastic synapses.
    # That is what a straightforward faithful Brian2 model of this spec does, and it is
    # the honest "same work" comparison behind the Brian2 anchors in WORKLOAD_W.md.
    #
    # Can w be event-driven in Brian2 and stay exact? Yes, for this workload: d(t) is a
    # fixed schedule (pulses at t = 0, 1 s, ...; d >= 0), and c only changes when a spike
    # touches the synapse, so between two touches every per-step increment c*d*dt has the
    # sign of c: w moves monotonically and the per-step clips equal ONE clip of the summed
    # increment, applied when the synapse is next touched. The sum is a table lookup:
    # sum_{k=m}^{n-1} rc^(k-m) d_k = (P[n] - P[m]) * rc^(-m), P[n] = sum_{k<n} rc^k d_k,
    # given to Brian2 as TimedArrays (--plasticity event, worker only, opt-in). Limits:
    # it relies on d >= 0 following a schedule known in advance (a reward-driven d would
    # need a flush at every sign change); the prefix difference is scaled by
    # rc^(-m) = exp(~t/1 s), so precision degrades with run length (fine up to ~10-20 s
    # in float64); and weights must be flushed (here in numpy, untimed) before they are
    # read. It is reported only as an extra data point, never by run_brian2_comparison.
    event = args.plasticity == "event"
    rc = 1.0 - 1.0 / TAU_C_MS
    rd = 1.0 - 1.0 / TAU_DA_MS
    if event:
        d_k = np.empty(steps + 1)
        da_val = 0.0
        for k in range(steps + 1):  # the same recurrence as the clock-driven da
            if k % DA_PERIOD_STEPS == 0:
                da_val += DA_PULSE
            d_k[k] = da_val
            da_val *= rd
        kk = np.arange(steps + 1)
        terms = np.power(np.longdouble(rc), kk.astype(np.longdouble)) * d_k.astype(np.longdouble)
        p_tab = np.concatenate([[0.0], np.cumsum(terms)[:-1]]).astype(np.float64)  # P[n]
        rinv_tab = np.power(rc, -kk.astype(np.float64))  # rc**(-n)
        P_tab = TimedArray(p_tab, dt=1 * ms, name="P_tab")
        Rinv_tab = TimedArray(rinv_tab, dt=1 * ms, name="Rinv_tab")
        catch_up = (
            f"w = clip(w + c*(P_tab(t) - P_tab(tl))*Rinv_tab(tl), {W_MIN}, {W_MAX})\n"
            "c = c*Rinv_tab(tl)/Rinv_tab(t)\n"
            "tl = t\n"
        )
        exc = Synapses(
            G[:n_exc],
            G,
            model="w : 1\nc : 1\ntl : second",
            on_pre=catch_up + "I_syn_post += w\nc += apost_post",
            on_post=catch_up + "c += apre_pre",
            name="exc_syn",
        )
    else:
        exc = Synapses(
            G[:n_exc],
            G,
            model="""
            w : 1
            c : 1
            da : 1 (shared)
            """,
            on_pre="I_syn_post += w\nc += apost_post",
            on_post="c += apre_pre",
            name="exc_syn",
        )
    exc.connect(i=exc_i, j=exc_j)
    exc.w = W_EXC_INIT
    exc.c = 0.0
    inh = Synapses(G[n_exc:], G[:n_exc], on_pre=f"I_syn_post += {W_INH}", name="inh_syn")
    inh.connect(i=inh_i, j=inh_j)

    if not event:
        # Dopamine: +0.5 at the start of steps 0, 1000, 2000, ... (t = 0, 1 s, ...).
        exc.run_regularly(
            f"da += {DA_PULSE}", dt=DA_PERIOD_STEPS * ms, when="start", name="da_pulse"
        )
        # End of every step: weights from the current (c, da), then c and da decay.
        exc.run_regularly(
            f"w = clip(w + c*da*dt/ms, {W_MIN}, {W_MAX})\nc = c*(1 - dt/({TAU_C_MS}*ms))",
            when="end",
            order=0,
            name="exc_wc_update",
        )
        exc.run_regularly(
            f"da = da*(1 - dt/({TAU_DA_MS}*ms))", when="end", order=1, name="da_decay"
        )

    mon = SpikeMonitor(G, record=False, name="spikes")  # counts only

    # Wall-clock timer around Network::run only (Brian2's own timer is std::clock).
    device.insert_code(
        "before_network_run",
        "struct timespec _w_t0, _w_t1; clock_gettime(CLOCK_MONOTONIC, &_w_t0);",
    )
    device.insert_code(
        "after_network_run",
        "clock_gettime(CLOCK_MONOTONIC, &_w_t1);\n"
        "{ std::ofstream _wf((brian::results_dir + \"loop_wall_s.txt\").c_str());\n"
        "  _wf.precision(9); _wf << ((_w_t1.tv_sec - _w_t0.tv_sec)"
        " + 1e-9 * (_w_t1.tv_nsec - _w_t0.tv_nsec)) << std::endl; }",
    )

    run(steps * ms)
    python_setup_s = time.perf_counter() - t_setup

    print(f"[brian2 worker] n={n} ({n_exc} exc / {n_inh} inh), synapses="
          f"{len(exc_i) + len(inh_i)}, {steps} steps; generating and compiling in {build_dir}",
          file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    device.build(directory=str(build_dir), compile=True, run=False, clean=True)
    build_s = time.perf_counter() - t0
    compile_s = float(device.timers["compile"]["make"] or 0.0)
    clean_s = float(device.timers["compile"]["clean"] or 0.0)
    codegen_s = build_s - compile_s - clean_s
    print(f"[brian2 worker] codegen {codegen_s:.2f} s, compile {compile_s:.2f} s",
          file=sys.stderr, flush=True)

    results_dir = build_dir / "results"
    loop_wall, loop_cpu, process_wall = [], [], []
    for k in range(int(args.repeats) + 1):  # run 0 is the untimed warm-up
        device.run(directory=str(build_dir), with_output=False)
        wall = float((results_dir / "loop_wall_s.txt").read_text().split()[0])
        label = "warm-up" if k == 0 else f"repeat {k}/{args.repeats}"
        print(f"[brian2 worker] {label}: loop {wall:.4f} s wall, "
              f"{device._last_run_time:.4f} s cpu, process {device.timers['run_binary']:.3f} s",
              file=sys.stderr, flush=True)
        if k == 0:
            warmup_s = wall
            continue
        loop_wall.append(wall)
        loop_cpu.append(float(device._last_run_time))
        process_wall.append(float(device.timers["run_binary"]))

    total_spikes = int(mon.num_spikes)
    w = np.asarray(exc.w[:])
    c = np.asarray(exc.c[:])
    if event:  # untimed flush of the pending updates up to the end of the run
        m = np.rint(np.asarray(exc.tl[:]) / float(ms)).astype(np.int64)
        w = np.clip(w + c * (p_tab[steps] - p_tab[m]) * rinv_tab[m], W_MIN, W_MAX)
        c = c * rinv_tab[m] / rinv_tab[steps]
    if args.dump_weights:
        np.save(args.dump_weights, np.stack([w, c]))
    med = float(np.median(loop_wall))
    dur_s = steps / 1000.0
    rate = total_spikes / (n * dur_s)
    result = {
        "simulator": "brian2",
        "brian2_version": brian2.__version__,
        "numpy_version": np.__version__,
        "python": sys.version.split()[0],
        "target": "cpp_standalone",
        "openmp_threads": int(prefs.devices.cpp_standalone.openmp_threads),
        "compiler_flags": list(prefs.codegen.cpp.extra_compile_args_gcc),
        "plasticity": (
            "event-driven exact catch-up (opt-in, see source)"
            if event
            else "clock-driven (w and c updated on every plastic synapse every step)"
        ),
        "n_neurons": n,
        "n_exc": n_exc,
        "n_inh": n_inh,
        "n_synapses": int(len(exc_i) + len(inh_i)),
        "n_plastic_synapses": int(len(exc_i)),
        "duration_s": dur_s,
        "dt_ms": 1.0,
        "steps": steps,
        "seed": int(args.seed),
        "python_setup_s": python_setup_s,
        "codegen_s": codegen_s,
        "compile_s": compile_s,
        "build_s": codegen_s + compile_s,
        "warmup_run_wall_s": warmup_s,
        "repeats": int(args.repeats),
        "run_wall_s": loop_wall,
        "run_wall_median_s": med,
        "run_cpu_s": loop_cpu,
        "run_cpu_median_s": float(np.median(loop_cpu)),
        "run_process_s": process_wall,
        "run_process_median_s": float(np.median(process_wall)),
        "real_time_factor": dur_s / med,
        "total_spikes": total_spikes,
        "mean_rate_hz": rate,
        "expected_rate_hz": EXPECTED_RATE_HZ,
        "synaptic_events_per_s": total_spikes * FAN_OUT / med,
        "final_w_mean": float(w.mean()),
        "final_w_frac_at_min": float(np.mean(w <= W_MIN)),
        "final_w_frac_at_max": float(np.mean(w >= W_MAX)),
        "final_c_mean": float(c.mean()),
        "build_dir": str(build_dir) if args.keep_build else None,
    }
    if not args.keep_build and not args.build_dir:
        shutil.rmtree(build_dir, ignore_errors=True)
    json_out.write(json.dumps(result) + "\n")
    json_out.flush()
    return result


def _show_update() -> None:
    """Print Brian2's forward-Euler update for the neuron equations (exactness check)."""
    from brian2 import Equations, euler

    eqs = Equations(
        f"""
        dv/dt = (0.04*v**2 + 5*v + 140 - u + I_ext + I_syn)/ms : 1
        du/dt = a*(b*v - u)/ms : 1
        dapre/dt = -apre/({TAU_TRACE_MS}*ms) : 1
        I_ext = {I_INPUT}*int(rand() < {P_INPUT}) : 1 (constant over dt)
        I_syn : 1
        a : 1 (constant)
        b : 1 (constant)
        """
    )
    print(euler(eqs))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", action="store_true",
                   help="run the model (needs brian2 importable: the dedicated venv)")
    p.add_argument("--n", type=int, default=1000, help="neurons (default 1000; 10000: scale-up)")
    p.add_argument("--duration", type=float, default=10.0, help="biological seconds")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after one warm-up")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--venv-dir", default=None, help=f"default {DEFAULT_VENV_DIR}")
    p.add_argument("--build-dir", default=None,
                   help="worker: standalone project dir (default: temp dir, removed)")
    p.add_argument("--keep-build", action="store_true", help="worker: keep the temp build dir")
    p.add_argument("--plasticity", choices=("clock", "event"), default="clock",
                   help="worker: clock-driven w/c (default, used by run_brian2_comparison)"
                   " or the opt-in exact event-driven catch-up (extra data point)")
    p.add_argument("--dump-weights", default=None,
                   help="worker: save final [w, c] of the plastic synapses to this .npy")
    p.add_argument("--show-update", action="store_true",
                   help="worker: print Brian2's Euler update code and exit")
    args = p.parse_args(argv)
    if args.worker:
        if args.show_update:
            _show_update()
            return 0
        _worker(args)
        return 0
    result = run_brian2_comparison(args.n, args.duration, args.repeats, args.venv_dir)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
