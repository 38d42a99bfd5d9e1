#!/usr/bin/env python3
"""Workload W benchmark of the spiking engine (``shared/WORKLOAD_W.md``, issue 3).

    python scripts/bench_engine.py                       # W: 1000 neurons, 10 s, float64
    python scripts/bench_engine.py --dtype float32
    python scripts/bench_engine.py --n 10000             # scale-up variant (1 s)
    python scripts/bench_engine.py --population 8        # 8 networks: all cores vs 1 core
    python scripts/bench_engine.py --brian2              # + Brian2 cpp_standalone, same run

Printed figures:

* ``compile_s``: cold compile of ALL engine kernels (every neuron model, plasticity,
  flush; float64 and float32) with an empty numba cache, measured in a subprocess whose
  ``NUMBA_CACHE_DIR`` is a fresh temporary directory (import time included).
* ``wall_s``: median (and min) over ``--repeats`` (>= 5) timed runs after a warm-up, of
  ``Network.run(steps)`` alone, on one thread (a single network never uses more), each on
  a freshly built network with the same seed; building is not timed. ``cpu_s``: the
  process CPU time of the same runs; on a machine shared with other jobs wall > CPU.
* ``real_time_factor`` = biological seconds / wall_s; ``synaptic_events_per_s`` =
  total spikes x fan-out / wall_s; ``total_spikes``; ``bytes_per_synapse``.
* ``population`` (``--population B``): B networks on 1 thread and on all numba threads,
  and, as the host's ceiling, the same B networks split over as many independent
  single-threaded processes started together; the three alternate round by round
  (``--repeats`` rounds) and the speedups are medians of the per-round ratios. Results of
  1 and all threads must be bitwise identical.
* ``cross_check``: a short run (``--check-steps``, float64, 1000 neurons) against the slow
  NumPy reference of ``tests/reference/snn_reference.py`` with the same random stream:
  identical spike trains and weights equal to 1e-9, or the script exits with status 1.

A JSON line with every figure is printed last.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numba  # noqa: E402

from agents.snn import workload_w  # noqa: E402

FANOUT = 100

# Builds one small network per neuron model with plasticity and delays, for each dtype,
# and runs it: this touches every kernel of the engine.
_COMPILE_PROBE = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import numpy as np
    from agents.snn import (NetworkBuilder, PoissonSource, LIF, ConductanceLIF, FixedFanout,
                            izhikevich_preset, izhikevich2007_rstdp, izhikevich2007_dopamine)
    for dtype in ("float64", "float32"):
        builder = NetworkBuilder()
        src = builder.add_population("src", 5, PoissonSource())
        izh = builder.add_population("izh", 5, izhikevich_preset("RS"))
        lif = builder.add_population("lif", 5, LIF())
        cob = builder.add_population("cob", 5, ConductanceLIF())
        builder.connect(src, [izh, lif, cob], FixedFanout(3), weight=0.5, delay_steps=2,
                        plastic=True)
        builder.connect(cob, izh, FixedFanout(2), weight=-0.5)
        builder.set_background(izh, 0.1, 10.0)
        net = builder.build(dtype=dtype, rule=izhikevich2007_rstdp(),
                            modulators=[izhikevich2007_dopamine()])
        net.set_source_probabilities("src", np.full(5, 0.1))
        net.run(3)
        net.weights()
    print(time.perf_counter() - t0)
    """
)


def measure_cold_compile() -> float:
    """Seconds to import the engine and compile every kernel with an empty cache."""
    with tempfile.TemporaryDirectory(prefix="numba_cold_") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(REPO_ROOT))
        out = subprocess.run([sys.executable, "-c", _COMPILE_PROBE], env=env, check=True,
                             stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    return float(out.stdout.strip().splitlines()[-1])


# One of the independent single-threaded processes that give the host's own ceiling for a
# population: it builds and warms its networks, says "ready", waits for a line on stdin so
# that all processes start together, and prints the wall time of one run.
_PROCESS_WORKER = textwrap.dedent(
    """
    import sys, time
    import numba
    numba.set_num_threads(1)
    from agents.snn import workload_w
    n, fanout, dtype, networks, seed, steps = sys.argv[1:7]
    build = dict(n_neurons=int(n), fanout=int(fanout), dtype=dtype,
                 population_size=int(networks), seed=int(seed))
    workload_w(**build).run(10)
    net = workload_w(**build)
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    net.run(int(steps))
    print(time.perf_counter() - t0, flush=True)
    """
)


def independent_processes_wall(n_neurons: int, steps: int, dtype: str, population: int,
                               processes: int, seed: int = 0) -> float:
    """Wall seconds for ``processes`` separate single-threaded processes, started together,
    to run ``population`` networks between them (the slowest process's run). Nothing is
    shared between them but the host, so this is the most that threads of one process
    could obtain on this machine."""
    share = np.diff(np.linspace(0, population, processes + 1).astype(int))
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), NUMBA_NUM_THREADS="1")
    workers = [subprocess.Popen([sys.executable, "-c", _PROCESS_WORKER, str(n_neurons),
                                 str(FANOUT), dtype, str(int(k)), str(seed), str(steps)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                env=env, cwd=REPO_ROOT)
               for k in share if k > 0]
    for w in workers:
        if w.stdout.readline().strip() != "ready":
            raise RuntimeError("a population worker process failed to start")
    for w in workers:
        w.stdin.write("go\n")
        w.stdin.flush()
    walls = []
    for w in workers:
        out, _ = w.communicate()
        if w.returncode != 0:
            raise RuntimeError(f"a population worker process exited with {w.returncode}")
        walls.append(float(out.strip().splitlines()[-1]))
    return max(walls)


def time_runs(n_neurons: int, steps: int, dtype: str, repeats: int, population: int = 1,
              seed: int = 0, cpu: list | None = None,
              warm_up: bool = True) -> tuple[list[float], object]:
    """Wall times of ``run(steps)`` on freshly built networks (after a warm-up run unless
    ``warm_up`` is False); the process CPU times of the same runs are appended to ``cpu``
    if given."""
    if warm_up:
        workload_w(n_neurons=n_neurons, fanout=FANOUT, dtype=dtype, population_size=population,
                   seed=seed).run(10)
    times = []
    net = None
    for _ in range(repeats):
        net = workload_w(n_neurons=n_neurons, fanout=FANOUT, dtype=dtype,
                         population_size=population, seed=seed)
        c0 = time.process_time()
        t0 = time.perf_counter()
        net.run(steps)
        times.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append(time.process_time() - c0)
    return times, net


def cross_check(steps: int, seed: int = 0) -> dict:
    """Kernel vs the slow reference on Workload W (1000 neurons, float64, ``steps``)."""
    from tests.reference.snn_reference import describe, simulate

    net = workload_w(fanout=FANOUT, dtype="float64", seed=seed, spike_capacity=10**6)
    desc = describe(net)
    net.run(steps)
    t0 = time.perf_counter()
    ref = simulate(desc, steps)[0]
    ref_s = time.perf_counter() - t0
    steps_k, ids_k = net.spikes(0)
    same_spikes = bool(np.array_equal(steps_k, ref["spike_steps"])
                       and np.array_equal(ids_k, ref["spike_ids"]))
    max_dw = float(np.max(np.abs(net.weights()[0] - ref["weights"])))
    changed = int(np.sum(ref["weights"] != 1.0) - np.sum(ref["weights"] == -2.0))
    return {
        "steps": steps,
        "spikes_engine": int(steps_k.size),
        "spikes_reference": int(ref["spike_steps"].size),
        "identical_spike_trains": same_spikes,
        "max_abs_weight_difference": max_dw,
        "plastic_weights_changed": changed,
        "reference_s": ref_s,
        "passed": same_spikes and max_dw <= 1e-9,
    }


def load_brian2_module():
    path = REPO_ROOT / "scripts" / "brian2_workload_w.py"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: the Brian2 comparison is not available")
    spec = importlib.util.spec_from_file_location("brian2_workload_w", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="neurons (1000 = W, 10000 = scale-up)")
    p.add_argument("--duration", type=float, default=None,
                   help="biological seconds (default 10 for n=1000, 1 otherwise)")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--repeats", type=int, default=5, help="timed runs (>= 5)")
    p.add_argument("--population", type=int, default=0,
                   help="also time B networks on all cores vs 1 core")
    p.add_argument("--brian2", action="store_true", help="also run Brian2 cpp_standalone")
    p.add_argument("--check-steps", type=int, default=1000,
                   help="steps of the reference cross-check (0 = skip)")
    p.add_argument("--no-compile", action="store_true", help="skip the cold-compile timing")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.repeats < 5:
        p.error("--repeats must be >= 5")
    duration = args.duration if args.duration is not None else (10.0 if args.n == 1000 else 1.0)
    steps = int(round(duration * 1000))  # dt = 1 ms
    result: dict = {"n_neurons": args.n, "synapses": args.n * FANOUT, "duration_s": duration,
                    "dtype": args.dtype, "numba": numba.__version__,
                    "threads_available": numba.config.NUMBA_NUM_THREADS,
                    "load_average_before": os.getloadavg()[0]}
    print(f"Workload W: {args.n} neurons, {args.n * FANOUT} synapses, {duration} s, "
          f"{args.dtype}, numba {numba.__version__}")

    if not args.no_compile:
        result["compile_s"] = measure_cold_compile()
        print(f"  compile s (cold, all kernels, both dtypes): {result['compile_s']:.2f}")

    numba.set_num_threads(1)
    cpu_times: list = []
    times, net = time_runs(args.n, steps, args.dtype, args.repeats, seed=args.seed,
                           cpu=cpu_times)
    wall = float(np.median(times))
    cpu = float(np.median(cpu_times))
    spikes = int(net.spike_count[0])
    mem = net.memory_bytes()
    result.update({
        "wall_s": wall, "wall_min_s": float(np.min(times)), "wall_runs_s": times,
        "cpu_s": cpu, "real_time_factor_cpu": duration / cpu,
        "real_time_factor": duration / wall,
        "synaptic_events_per_s": spikes * FANOUT / wall,
        "total_spikes": spikes, "mean_rate_hz": spikes / args.n / duration,
        "bytes_per_synapse": mem["per_synapse"],
        "bytes_per_plastic_synapse": mem["per_plastic_synapse"],
    })
    print(f"  wall s (median of {args.repeats}, 1 core): {wall:.4f}  (min {np.min(times):.4f}); "
          f"process CPU s {cpu:.4f} (wall >> CPU means the core was shared)")
    print(f"  real-time factor: {duration / wall:.1f}")
    print(f"  synaptic events / s: {spikes * FANOUT / wall:.3e}")
    print(f"  total spikes: {spikes}  ({spikes / args.n / duration:.2f} Hz)")
    print(f"  bytes per synapse: {mem['per_synapse']:.1f} (per plastic synapse "
          f"{mem['per_plastic_synapse']:.1f})")

    status = 0
    if args.check_steps > 0:
        check = cross_check(args.check_steps, seed=args.seed)
        result["cross_check"] = check
        verdict = "PASS" if check["passed"] else "FAIL"
        print(f"  cross-check vs reference ({check['steps']} steps, 1000 neurons, float64): "
              f"{verdict}: spikes {check['spikes_engine']} vs {check['spikes_reference']}, "
              f"identical trains {check['identical_spike_trains']}, max |dw| "
              f"{check['max_abs_weight_difference']:.2e}, "
              f"{check['plastic_weights_changed']} plastic weights changed")
        if not check["passed"]:
            status = 1

    if args.population > 0:
        B = args.population
        all_threads = numba.config.NUMBA_NUM_THREADS
        # 1 thread, all threads and independent processes alternate run by run, so that a
        # drift of the host (its clock, a neighbour's load) hits all alike; ratios are the
        # medians of the per-round ratios
        walls: dict = {1: [], all_threads: []}
        cpus: dict = {1: [], all_threads: []}
        process_walls: list = []
        pops: dict = {}
        for threads in (1, all_threads):
            numba.set_num_threads(threads)
            workload_w(n_neurons=args.n, fanout=FANOUT, dtype=args.dtype, population_size=B,
                       seed=args.seed).run(10)  # warm-up, and the thread pool
        for _ in tqdm(range(args.repeats), desc="population rounds", leave=False):
            for threads in (1, all_threads):
                numba.set_num_threads(threads)
                t, pops[threads] = time_runs(args.n, steps, args.dtype, 1, population=B,
                                             seed=args.seed, cpu=cpus[threads], warm_up=False)
                walls[threads] += t
            process_walls.append(independent_processes_wall(args.n, steps, args.dtype, B,
                                                            all_threads, seed=args.seed))
        numba.set_num_threads(1)
        w1 = float(np.median(walls[1]))
        wn = float(np.median(walls[all_threads]))
        wp = float(np.median(process_walls))
        one, many, procs = (np.array(x) for x in (walls[1], walls[all_threads], process_walls))
        speedup = float(np.median(one / many))
        host_ceiling = float(np.median(one / procs))
        cores_used = float(np.median(np.array(cpus[all_threads]) / many))
        pop1, popn = pops[1], pops[all_threads]
        identical = bool(np.array_equal(pop1.weights(), popn.weights())
                         and np.array_equal(pop1.spike_count, popn.spike_count))
        result["population"] = {
            "networks": B, "threads": all_threads, "wall_1_thread_s": w1,
            "wall_all_threads_s": wn, "wall_independent_processes_s": wp,
            "wall_runs_1_thread_s": walls[1], "wall_runs_all_threads_s": walls[all_threads],
            "wall_runs_independent_processes_s": process_walls,
            "throughput_1_thread": B * duration / w1,
            "throughput_all_threads": B * duration / wn,
            "speedup": speedup, "speedup_independent_processes": host_ceiling,
            "bitwise_identical_across_thread_counts": identical,
            "cpu_per_wall_all_threads": cores_used,
        }
        print(f"  population of {B} (medians of {args.repeats} alternating rounds): 1 thread "
              f"{w1:.3f} s ({B * duration / w1:.0f} network-s/s), {all_threads} threads {wn:.3f} s "
              f"({B * duration / wn:.0f} network-s/s): speedup {speedup:.2f}x, identical results "
              f"{identical}; CPU s per wall s with {all_threads} threads: {cores_used:.2f}")
        print(f"  host ceiling: {all_threads} independent single-threaded processes sharing the "
              f"{B} networks: {wp:.3f} s, speedup {host_ceiling:.2f}x over 1 thread "
              f"(threads reach {speedup / host_ceiling:.0%} of it)")

    if args.brian2:
        module = load_brian2_module()
        b2 = module.run_brian2_comparison(args.n, duration)
        b2_wall = float(b2["run_wall_median_s"])
        result["brian2"] = b2
        result["speedup_vs_brian2"] = b2_wall / wall
        print(f"  Brian2 {b2.get('brian2_version', '?')} {b2.get('target', '')}: run "
              f"{b2_wall:.3f} s (RTF {duration / b2_wall:.1f}), build "
              f"{b2.get('build_s', float('nan')):.1f} s, spikes {b2.get('total_spikes')}; "
              f"engine is {b2_wall / wall:.1f}x faster")

    result["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(result))
    return status


if __name__ == "__main__":
    sys.exit(main())
