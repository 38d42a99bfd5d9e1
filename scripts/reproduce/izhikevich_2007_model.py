"""The network of Izhikevich (2007), built with the engine; shared by the reproductions
``izhikevich_2007_distal_reward.py`` and ``izhikevich_2007_conditioning.py``.

Model (E. M. Izhikevich 2007, Solving the distal reward problem through linkage of STDP
and dopamine signaling, Cerebral Cortex 17:2443; followed from the paper's published
MATLAB code ``daspnet.m``, read, not copied):

* 1000 Izhikevich (2003) neurons, 800 regular spiking (a = 0.02 /ms, d = 8) and 200 fast
  spiking (a = 0.1 /ms, d = 2), b = 0.2, c = -65 mV, v_peak = 30 mV; ``v`` advanced by two
  Euler half-steps of 0.5 ms, then ``u`` by one 1 ms step with the new ``v``.
* 100 synapses per neuron, delay 1 ms: excitatory -> any neuron (distinct targets, no
  self-connection; the C version of the code also excludes duplicates), weight 1,
  plastic in [0, 4]; inhibitory -> excitatory only, weight -1, fixed.
* Input: every neuron, every ms, a current uniform on [-6.5, 6.5) (``13 (rand - 0.5)``).
* DA-modulated STDP: one nearest-spike trace per neuron, set to 0.1 by a spike and
  decaying by 0.95 per ms (tau 20 ms); a post spike adds A+ = 0.1 x (pre trace) to the
  eligibility ``c``, a pre spike adds A- = -0.15 x (post trace) (``1.5 x`` the trace in
  the code). ``c`` decays with tau_c = 1 s.
* Dopamine: ``DA`` decays by 0.995 per ms (tau 200 ms), +0.5 per reward. Every 10 ms
  ``w <- clip(w + (0.002 + DA) c, 0, 4)`` (tonic DA 0.002): a rule with
  ``weight_update_period_ms=10``, gain 0.1 per ms, and a constant modulator ``DA_tonic``.

Differences from the code, all small: the engine reads a trace after its decay of the
step, so both A+ and A- see one more factor 0.95 (their ratio, what sets the balance of
LTP and LTD, is the code's); a pre and post spike at the same step add nothing (the code
adds LTD there); ``c`` decays by 0.999 every ms instead of 0.99 every 10 ms.
"""
from __future__ import annotations

import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tqdm import tqdm

from agents.snn import (
    FixedFanout,
    Modulator,
    NetworkBuilder,
    izhikevich2007_rstdp,
    izhikevich_preset,
)

N_EXCITATORY = 800
N_INHIBITORY = 200
SYNAPSES_PER_NEURON = 100
NOISE_LOW, NOISE_HIGH = -6.5, 6.5
REWARD_DA = 0.5
TONIC_DA = 0.002
FIGURES = REPO_ROOT / "docs" / "figures"


def paper_builder(topology_seed: int):
    """Builder with the paper's two populations, synapses and noise input; returns
    ``(builder, exc, inh)`` so that a reproduction can add its stimulus sources."""
    builder = NetworkBuilder(dt_ms=1.0, topology_seed=topology_seed)
    exc = builder.add_population("exc", N_EXCITATORY,
                                 izhikevich_preset("RS", integration="half_steps"))
    inh = builder.add_population("inh", N_INHIBITORY,
                                 izhikevich_preset("FS", integration="half_steps"))
    builder.connect(exc, [exc, inh], FixedFanout(SYNAPSES_PER_NEURON), weight=1.0,
                    delay_steps=1, plastic=True)
    builder.connect(inh, exc, FixedFanout(SYNAPSES_PER_NEURON), weight=-1.0, delay_steps=1)
    builder.set_noise_current([exc, inh], NOISE_LOW, NOISE_HIGH)
    return builder, exc, inh


def paper_rule():
    """DA-modulated STDP of the paper's code (see the module docstring)."""
    return izhikevich2007_rstdp(a_plus=0.1, a_minus=-0.15, stdp_tau_ms=20.0,
                                eligibility_tau_ms=1000.0, w_min=0.0, w_max=4.0,
                                decay="euler", trace_mode="set", gain_per_ms=0.1,
                                weight_update_period_ms=10.0, tonic_modulator="DA_tonic")


def paper_modulators():
    """Phasic DA (tau 200 ms, rewards add 0.5) and the constant tonic level 0.002."""
    return [Modulator("DA", 200.0, decay="euler"),
            Modulator("DA_tonic", math.inf, initial=TONIC_DA)]


def build(builder, seed: int, triggers=(), spike_capacity: int = 0):
    """One network (population of 1) of the paper's rule and modulators."""
    return builder.build(seed=seed, rule=paper_rule(), modulators=paper_modulators(),
                         triggers=triggers, spike_capacity=spike_capacity)


def run_jobs(jobs, n_threads: int, total_steps: int, desc: str):
    """Run ``job(advance)`` callables on ``n_threads`` threads (the engine's kernels
    release the GIL); ``advance(steps)`` moves one shared tqdm bar. Returns the results
    in job order."""
    bar = tqdm(total=total_steps // 1000, unit="bio-s", desc=desc, file=sys.stderr,
               disable=os.environ.get("TQDM_DISABLE") == "1", mininterval=2.0)
    lock = threading.Lock()
    pending = [0]  # steps not yet shown (the bar counts whole biological seconds)

    def advance(steps: int) -> None:
        with lock:
            pending[0] += steps
            bar.update(pending[0] // 1000)
            pending[0] %= 1000

    try:
        if n_threads <= 1:
            return [job(advance) for job in jobs]
        with ThreadPoolExecutor(n_threads) as pool:
            return list(pool.map(lambda job: job(advance), jobs))
    finally:
        bar.close()


def parse_run_args(description: str, figure_name: str, argv=None, min_duration_s: int = 1):
    """The command line every reproduction shares -> ``(args, seeds, duration_s)``:
    ``--seeds`` (default 10; quick 2), ``--quick`` (CI-sized: 600 s of biology, 2 seeds),
    ``--duration-s`` (default 1800; quick 600), ``--threads`` (networks run in parallel),
    ``--figure`` (default ``docs/figures/<figure_name>``) and ``--no-figure``."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default 10; quick 2)")
    parser.add_argument("--quick", action="store_true", help="CI-sized run (600 s, 2 seeds)")
    parser.add_argument("--duration-s", type=int, default=None, help="default 1800 (quick 600)")
    parser.add_argument("--threads", type=int, default=2, help="networks run in parallel")
    parser.add_argument("--figure", type=Path, default=FIGURES / figure_name)
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)
    n_seeds = args.seeds if args.seeds is not None else (2 if args.quick else 10)
    duration = args.duration_s if args.duration_s is not None else (600 if args.quick else 1800)
    if n_seeds < 1 or duration < min_duration_s:
        raise ValueError(f"--seeds must be >= 1 and --duration-s >= {min_duration_s}")
    return args, list(range(n_seeds)), duration


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def save_figure(fig, path, dpi: int = 110, **savefig_kwargs) -> None:
    """Write a reproduction's figure to ``path`` (folders created) and release it."""
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, **savefig_kwargs)
    plt.close(fig)


def finish(args, ok: bool, draw) -> int:
    """The common end of every reproduction script: ``draw(path)`` the figure to
    ``args.figure`` unless ``--no-figure``, print the verdict; -> the exit status (1 on FAIL)."""
    if not args.no_figure:
        draw(args.figure)
        print(f"figure: {args.figure}")
    print(f"VERDICT: {verdict(ok)}")
    return 0 if ok else 1
