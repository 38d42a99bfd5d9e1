"""Slow reference for the rule presets, written from each PAPER's equations.

Independent of the rule-as-data encoding (:mod:`agents.rules`) and of the kernels: given
the spike raster of a run and the per-step modulator levels the engine saw, each function
below integrates its paper's plasticity equations densely, every synapse every step, in
the engine's documented order of one step (``agents/snn/network.py``): traces decay,
pre spikes read post-side traces, post spikes read pre-side traces, traces increment,
then ``w <- clip(w + dt * dw/dt)``. If a preset's data encodes its paper correctly and
the generic kernel runs data correctly, final weights agree to rounding.
"""
from __future__ import annotations

import math

import numpy as np


def _a(tau_ms: float, dt: float, kind: str = "exact") -> float:
    return math.exp(-dt / tau_ms) if kind == "exact" else 1.0 - dt / tau_ms


class _Run:
    """Spike raster (T, n) bool, synapse arrays, modulator levels name -> (T,)."""

    def __init__(self, raster, pre, post, w0, bounds, modulators, dt):
        self.raster = raster
        self.pre = pre
        self.post = post
        self.w = np.array(w0, dtype=np.float64)
        self.lo, self.hi = bounds
        self.mod = modulators
        self.dt = dt

    def steps(self):
        for t in range(self.raster.shape[0]):
            s = self.raster[t]
            yield t, s[self.pre], s[self.post], s

    def apply(self, dwdt):
        self.w = np.clip(self.w + self.dt * dwdt, self.lo, self.hi)


def rstdp(p, run: _Run):
    """Izhikevich (2007): c += STDP(pairing); dw/dt = DA c."""
    n = run.raster.shape[1]
    a_s, a_c = _a(p.stdp_tau_ms, run.dt, p.decay), _a(p.eligibility_tau_ms, run.dt, p.decay)
    x_pre, x_post, c = np.zeros(n), np.zeros(n), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        x_pre *= a_s
        x_post *= a_s
        c *= a_c
        c += pre_spk * x_post[run.post] + post_spk * x_pre[run.pre]
        x_pre += p.a_plus * spk
        x_post += p.a_minus * spk
        run.apply(run.mod[p.modulator][t] * c)
    return run.w


def mstdp_et(p, run: _Run):
    """Florian (2007): zeta = P+ Phi_post + P- Psi_pre; tau_z dz/dt = -z + zeta; dw/dt = g r z."""
    n = run.raster.shape[1]
    a_p, a_m = _a(p.tau_plus_ms, run.dt), _a(p.tau_minus_ms, run.dt)
    a_z = _a(p.eligibility_tau_ms, run.dt)
    P_plus, P_minus, z = np.zeros(n), np.zeros(n), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        P_plus *= a_p
        P_minus *= a_m
        zeta = post_spk * P_plus[run.pre] + pre_spk * P_minus[run.post]
        z = a_z * z + zeta / p.eligibility_tau_ms
        P_plus += p.a_plus * spk
        P_minus += p.a_minus * spk
        run.apply(p.learning_rate * run.mod[p.modulator][t] * z)
    return run.w


def mstdp(p, run: _Run):
    """Florian (2007): dw = gamma r zeta at the pairing step (no memory)."""
    n = run.raster.shape[1]
    a_p, a_m = _a(p.tau_plus_ms, run.dt), _a(p.tau_minus_ms, run.dt)
    P_plus, P_minus = np.zeros(n), np.zeros(n)
    for t, pre_spk, post_spk, spk in run.steps():
        P_plus *= a_p
        P_minus *= a_m
        zeta = post_spk * P_plus[run.pre] + pre_spk * P_minus[run.post]
        P_plus += p.a_plus * spk
        P_minus += p.a_minus * spk
        run.w = np.clip(run.w + p.learning_rate * run.mod[p.modulator][t] * zeta, run.lo, run.hi)
    return run.w


def td_ltp(p, run: _Run):
    """Fremaux et al. (2013): e = kappa * (Y_post . eps * X_pre); dw/dt = eta delta e."""
    n = run.raster.shape[1]
    a_m, a_s, a_e = _a(p.psp_tau_ms, run.dt), _a(p.psp_rise_tau_ms, run.dt), \
        _a(p.eligibility_tau_ms, run.dt)
    psp_m, psp_s, e = np.zeros(n), np.zeros(n), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        psp_m *= a_m
        psp_s *= a_s
        e *= a_e
        e += post_spk * (psp_m - psp_s)[run.pre]
        psp_m += spk
        psp_s += spk
        run.apply(p.learning_rate * run.mod[p.modulator][t] * e)
    return run.w


def brzosko(p, run: _Run):
    """Brzosko et al. (2017): symmetric coincidence trace; dw/dt = eta (gDA DA - gACh ACh) c."""
    n = run.raster.shape[1]
    a_s, a_e = _a(p.stdp_tau_ms, run.dt), _a(p.eligibility_tau_ms, run.dt)
    x_pre, x_post, c = np.zeros(n), np.zeros(n), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        x_pre *= a_s
        x_post *= a_s
        c *= a_e
        c += pre_spk * x_post[run.post] + post_spk * x_pre[run.pre]
        x_pre += p.amplitude * spk
        x_post += p.amplitude * spk
        factor = p.da_potentiation_gain * run.mod[p.dopamine][t] \
            - p.ach_depression_gain * run.mod[p.acetylcholine][t]
        run.apply(p.learning_rate * factor * c)
    return run.w


def he(p, run: _Run):
    """He et al. (2015): LTP trace (pre-before-post) x NE, LTD trace (post-before-pre) x 5-HT."""
    n = run.raster.shape[1]
    a_s = _a(p.stdp_tau_ms, run.dt)
    a_p, a_d = _a(p.ltp_trace_tau_ms, run.dt), _a(p.ltd_trace_tau_ms, run.dt)
    x_pre, x_post = np.zeros(n), np.zeros(n)
    c_ltp, c_ltd = np.zeros(run.w.size), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        x_pre *= a_s
        x_post *= a_s
        c_ltp = a_p * c_ltp + post_spk * x_pre[run.pre]
        c_ltd = a_d * c_ltd + pre_spk * x_post[run.post]
        x_pre += p.amplitude * spk
        x_post += p.amplitude * spk
        run.apply(p.learning_rate * (p.ne_gain * run.mod[p.norepinephrine][t] * c_ltp
                                     - p.serotonin_gain * run.mod[p.serotonin][t] * c_ltd))
    return run.w


def yagishita(p, run: _Run):
    """Yagishita et al. (2014) as modelled: c_eff = (e^-t/tau_d - e^-t/tau_r) / peak."""
    n = run.raster.shape[1]
    td, tr = p.eligibility_decay_tau_ms, p.eligibility_rise_tau_ms
    t_peak = math.log(td / tr) * td * tr / (td - tr)
    peak = math.exp(-t_peak / td) - math.exp(-t_peak / tr)
    a_s, a_d, a_r = _a(p.stdp_tau_ms, run.dt), _a(td, run.dt), _a(tr, run.dt)
    x_pre = np.zeros(n)
    c_d, c_r = np.zeros(run.w.size), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        x_pre *= a_s
        inc = post_spk * x_pre[run.pre]
        c_d = a_d * c_d + inc
        c_r = a_r * c_r + inc
        x_pre += p.amplitude * spk
        run.apply(p.learning_rate / peak * run.mod[p.modulator][t] * (c_d - c_r))
    return run.w


REFERENCES = {
    "rstdp": rstdp, "exponential": rstdp, "mstdp": mstdp, "mstdp_et": mstdp_et,
    "td_ltp": td_ltp, "brzosko": brzosko, "he": he, "yagishita": yagishita,
}


def simulate(name, params, raster, pre, post, w0, modulators, dt):
    """Final weights of the plastic synapses ``pre -> post`` under rule ``name``."""
    run = _Run(raster, pre, post, w0, (params.w_min, params.w_max), modulators, dt)
    return REFERENCES[name](params, run)


def priming(p, run: _Run):
    """Metaplasticity as modelled: c += max(0, x_pre - (theta_0 - k P(t))); dw/dt = eta DA c."""
    n = run.raster.shape[1]
    a_s, a_c = _a(p.stdp_tau_ms, run.dt), _a(p.eligibility_tau_ms, run.dt)
    x_pre, c = np.zeros(n), np.zeros(run.w.size)
    for t, pre_spk, post_spk, spk in run.steps():
        x_pre *= a_s
        theta = p.ltp_threshold - p.threshold_shift_per_unit * run.mod[p.priming][t]
        c = a_c * c + post_spk * np.maximum(0.0, x_pre[run.pre] - theta)
        x_pre += p.amplitude * spk
        run.apply(p.learning_rate * run.mod[p.dopamine][t] * c)
    return run.w


REFERENCES["priming"] = priming
