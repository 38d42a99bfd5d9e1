"""The engine's numba kernels: one multi-step run of a population, and the flush.

Only :mod:`agents.snn.network` calls these; it owns validation and the meaning of each
array (documented there). Everything here is allocation-free per step: scratch arrays
come from the caller, and a whole ``run(n_steps)`` of all ``B`` networks is one call.

Lazy eligibility (why a synapse costs nothing between spikes). A plastic synapse stores
``w``, its eligibilities ``c_k`` and ``t_last`` (relative to the network's epoch start
``e``): the step of its last update, with ``c_k`` the value AFTER that step's spike
increments and ``w`` including every conversion BEFORE that step. Between updates no
increments happen, so ``c_k(s) = c_k(t_last) a_k^(s - t_last)`` and the weight change
owed for steps ``t_last .. t-1`` is, per conversion ``q`` reading trace ``k``,

    sum_s g_q M_q(s) c_k(s) dt = c_k(t_last) a_k^-(t_last-e) (Phi_q(t) - Phi_q(t_last))
    with  Phi_q(j) = sum_{e <= s < e+j} g_q M_q(s) a_k^(s-e) dt   (phi[b, q, j - e])

``phi`` keeps one running sum per step of the epoch. Before ``a^-(j)`` grows past
``MAX_EPOCH_GROWTH`` (or the history is full) the kernel flushes every synapse and
starts a new epoch; it also flushes when the sign of any ``g_q M_q`` changes, which is
what makes touch-time clipping equal to per-step clipping (see plasticity.py).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from agents.snn.models import (
    MODEL_CONDUCTANCE_LIF,
    MODEL_IZHIKEVICH,
    MODEL_LIF,
    MODEL_SOURCE,
)
from agents.snn.rng import background_gap, source_step_key, source_uniform


@numba.njit(cache=True, inline="always")
def _catch_up(b, s, t_rel, w, elig, t_last, phi, conv_elig, elig_pow, elig_inv_pow, w_min, w_max):
    """Bring plastic synapse ``s`` of network ``b`` up to epoch-relative step ``t_rel``:
    apply the conversions owed for the steps since its last update, decay its
    eligibilities, clip the weight. A second call in the same step is a no-op."""
    j0 = t_last[b, s]
    if j0 == t_rel:
        return
    dw = 0.0
    for q in range(conv_elig.shape[0]):
        k = conv_elig[q]
        dw += elig[b, k, s] * elig_inv_pow[k, j0] * (phi[b, q, t_rel] - phi[b, q, j0])
    gap = t_rel - j0
    for k in range(elig.shape[1]):
        elig[b, k, s] = elig[b, k, s] * elig_pow[k, gap]
    w_new = w[b, s] + dw
    if w_new < w_min:
        w_new = w_min
    elif w_new > w_max:
        w_new = w_max
    w[b, s] = w_new
    t_last[b, s] = t_rel


@numba.njit(cache=True)
def _flush_network(b, t_rel, row_ptr, plastic_stop, w, elig, t_last, phi, conv_elig, elig_pow,
                   elig_inv_pow, bounds):
    """Bring every plastic synapse of network ``b`` up to epoch-relative step ``t_rel``."""
    n = plastic_stop.shape[0]
    for i in range(n):
        for s in range(row_ptr[i], plastic_stop[i]):
            _catch_up(b, s, t_rel, w, elig, t_last, phi, conv_elig, elig_pow, elig_inv_pow,
                      bounds[0], bounds[1])


@numba.njit(cache=True)
def _rebase_network(b, t, epoch_start, row_ptr, plastic_stop, w, elig, t_last, phi, conv_elig,
                    elig_pow, elig_inv_pow, bounds):
    """Flush network ``b`` to absolute step ``t`` and start a new epoch at ``t``."""
    _flush_network(b, t - epoch_start[b], row_ptr, plastic_stop, w, elig, t_last, phi, conv_elig,
                   elig_pow, elig_inv_pow, bounds)
    n = plastic_stop.shape[0]
    for i in range(n):
        for s in range(row_ptr[i], plastic_stop[i]):
            t_last[b, s] = 0
    for q in range(phi.shape[1]):
        phi[b, q, 0] = 0.0
    epoch_start[b] = t


@numba.njit(cache=True, parallel=True)
def flush_population(t, epoch_start, row_ptr, plastic_stop, w, elig, t_last, phi, conv_elig,
                     elig_pow, elig_inv_pow, bounds):
    """Flush all networks to absolute step ``t`` (before reads / saves of weights)."""
    for b in numba.prange(w.shape[0]):
        _rebase_network(b, t, epoch_start, row_ptr, plastic_stop, w, elig, t_last, phi, conv_elig,
                        elig_pow, elig_inv_pow, bounds)


@numba.njit(cache=True)
def _run_network(
    b, t_start, n_steps,
    # neurons
    group_model, group_start, group_stop, nparams, v, s1, s2, refractory, input_buffer,
    # random inputs
    net_keys, source_prob, bg_amp, bg_log1m_p, bg_next, bg_draw,
    # synapses
    row_ptr, post, delay, plastic_stop, col_ptr, col_syn, col_pre, w, elig, t_last,
    # rule
    trace_decay, trace_increment, trace_set_mode, traces, elig_pre_trace, elig_pre_gain,
    elig_post_trace, elig_post_gain, conv_elig, conv_mod, conv_gain, bounds, elig_pow,
    elig_inv_pow, phi, epoch_start, segment_sign,
    # modulators
    mod_decay, mod_level, mod_pulse, mod_period, mod_phase, release,
    # recording and scratch
    spike_count, spike_times, spike_ids, spike_written, probe_ids, probe_period, probe_times,
    probe_v, probe_s1, probe_mod, probe_written, spikes,
):
    n = v.shape[1]
    n_groups = group_model.shape[0]
    n_slots = input_buffer.shape[1]
    n_traces = traces.shape[1]
    n_elig = elig.shape[1]
    n_conv = conv_elig.shape[0]
    n_mod = mod_level.shape[1]
    epoch_len = phi.shape[2] - 1
    w_min = bounds[0]
    w_max = bounds[1]
    key = net_keys[b]
    has_release = release.shape[1] > 0
    spike_cap = spike_times.shape[1]
    probe_cap = probe_times.shape[1]
    n_probe = probe_ids.shape[0]

    for step in range(n_steps):
        t = t_start + step

        # 1. modulators: decay, scheduled pulse, supplied release.
        for m in range(n_mod):
            level = mod_level[b, m] * mod_decay[m]
            if mod_period[m] > 0 and t >= mod_phase[m] and (t - mod_phase[m]) % mod_period[m] == 0:
                level += mod_pulse[b, m]
            if has_release:
                level += release[b, step, m]
            mod_level[b, m] = level

        # 2. flush + new epoch on a sign change of any conversion, or a full epoch.
        if n_conv > 0:
            need_flush = t - epoch_start[b] >= epoch_len
            for q in range(n_conv):
                x = conv_gain[b, q] * mod_level[b, conv_mod[q]]
                if (x > 0.0 and segment_sign[b, q] < 0) or (x < 0.0 and segment_sign[b, q] > 0):
                    need_flush = True
            if need_flush:
                _rebase_network(b, t, epoch_start, row_ptr, plastic_stop, w, elig, t_last, phi,
                                conv_elig, elig_pow, elig_inv_pow, bounds)
                for q in range(n_conv):
                    segment_sign[b, q] = 0
            j = t - epoch_start[b]
            for q in range(n_conv):
                x = conv_gain[b, q] * mod_level[b, conv_mod[q]]
                if x > 0.0:
                    segment_sign[b, q] = 1
                elif x < 0.0:
                    segment_sign[b, q] = -1
                # dt is folded into conv_gain by the caller.
                phi[b, q, j + 1] = phi[b, q, j] + x * elig_pow[conv_elig[q], j]
        t_rel = t - epoch_start[b]

        # 3. neurons: inputs of this step, integration, spikes.
        slot = t % n_slots
        n_spikes = 0
        for g in range(n_groups):
            model = group_model[g]
            start = group_start[g]
            stop = group_stop[g]
            if model == MODEL_SOURCE:
                step_key = source_step_key(key, t)
                for i in range(start, stop):
                    input_buffer[b, slot, 0, i] = 0.0
                    input_buffer[b, slot, 1, i] = 0.0
                    p = source_prob[b, i]
                    if p > 0.0 and source_uniform(step_key, i) < p:
                        spikes[b, n_spikes] = i
                        n_spikes += 1
            elif model == MODEL_IZHIKEVICH:
                for i in range(start, stop):
                    current = np.float64(input_buffer[b, slot, 0, i]) + np.float64(
                        input_buffer[b, slot, 1, i])
                    input_buffer[b, slot, 0, i] = 0.0
                    input_buffer[b, slot, 1, i] = 0.0
                    if bg_next[b, i] == t:
                        current += bg_amp[b, i]
                        k = bg_draw[b, i] + 1
                        bg_draw[b, i] = k
                        bg_next[b, i] = t + background_gap(key, i, k, bg_log1m_p[b, i])
                    vv = np.float64(v[b, i])
                    uu = np.float64(s1[b, i])
                    a = nparams[b, i, 0]
                    dt = nparams[b, i, 5]
                    if nparams[b, i, 6] != 0.0:
                        half = 0.5 * dt
                        vn = vv + half * (0.04 * vv * vv + 5.0 * vv + 140.0 - uu + current)
                        vn = vn + half * (0.04 * vn * vn + 5.0 * vn + 140.0 - uu + current)
                        un = uu + dt * a * (nparams[b, i, 1] * vn - uu)
                    else:
                        vn = vv + dt * (0.04 * vv * vv + 5.0 * vv + 140.0 - uu + current)
                        un = uu + dt * a * (nparams[b, i, 1] * vv - uu)
                    if vn >= nparams[b, i, 4]:
                        vn = nparams[b, i, 2]
                        un = un + nparams[b, i, 3]
                        spikes[b, n_spikes] = i
                        n_spikes += 1
                    v[b, i] = vn
                    s1[b, i] = un
            elif model == MODEL_LIF:
                for i in range(start, stop):
                    current = np.float64(s1[b, i]) + np.float64(input_buffer[b, slot, 0, i]) \
                        + np.float64(input_buffer[b, slot, 1, i])
                    input_buffer[b, slot, 0, i] = 0.0
                    input_buffer[b, slot, 1, i] = 0.0
                    if bg_next[b, i] == t:
                        current += bg_amp[b, i]
                        k = bg_draw[b, i] + 1
                        bg_draw[b, i] = k
                        bg_next[b, i] = t + background_gap(key, i, k, bg_log1m_p[b, i])
                    v_rest = nparams[b, i, 3]
                    if refractory[b, i] > 0:
                        refractory[b, i] -= 1
                        vn = nparams[b, i, 4]
                    else:
                        vn = v_rest + (np.float64(v[b, i]) - v_rest) * nparams[b, i, 0] \
                            + nparams[b, i, 1] * current
                        if vn >= nparams[b, i, 5]:
                            vn = nparams[b, i, 4]
                            refractory[b, i] = np.int32(nparams[b, i, 6])
                            spikes[b, n_spikes] = i
                            n_spikes += 1
                    v[b, i] = vn
                    s1[b, i] = current * nparams[b, i, 2]
            elif model == MODEL_CONDUCTANCE_LIF:
                for i in range(start, stop):
                    g_exc = np.float64(s1[b, i]) + np.float64(input_buffer[b, slot, 0, i])
                    g_inh = np.float64(s2[b, i]) - np.float64(input_buffer[b, slot, 1, i])
                    input_buffer[b, slot, 0, i] = 0.0
                    input_buffer[b, slot, 1, i] = 0.0
                    if bg_next[b, i] == t:
                        amp = bg_amp[b, i]
                        if amp >= 0.0:
                            g_exc += amp
                        else:
                            g_inh -= amp
                        k = bg_draw[b, i] + 1
                        bg_draw[b, i] = k
                        bg_next[b, i] = t + background_gap(key, i, k, bg_log1m_p[b, i])
                    if refractory[b, i] > 0:
                        refractory[b, i] -= 1
                        vn = nparams[b, i, 2]
                    else:
                        total = 1.0 + g_exc + g_inh
                        v_inf = (nparams[b, i, 1] + g_exc * nparams[b, i, 5]
                                 + g_inh * nparams[b, i, 6]) / total
                        vn = v_inf + (np.float64(v[b, i]) - v_inf) * math.exp(
                            -nparams[b, i, 0] * total)
                        if vn >= nparams[b, i, 3]:
                            vn = nparams[b, i, 2]
                            refractory[b, i] = np.int32(nparams[b, i, 4])
                            spikes[b, n_spikes] = i
                            n_spikes += 1
                    v[b, i] = vn
                    s1[b, i] = g_exc * nparams[b, i, 7]
                    s2[b, i] = g_inh * nparams[b, i, 8]

        # 4. neuron traces decay (before this step's pairings read them).
        for r in range(n_traces):
            a = trace_decay[r]
            if a != 1.0:
                for i in range(n):
                    traces[b, r, i] = traces[b, r, i] * a

        # 5. presynaptic spikes: update + pair outgoing plastic synapses, deliver weights.
        for q in range(n_spikes):
            i = spikes[b, q]
            plastic_end = plastic_stop[i] if n_conv > 0 else row_ptr[i]
            for s in range(row_ptr[i], row_ptr[i + 1]):
                j = post[s]
                if s < plastic_end:
                    _catch_up(b, s, t_rel, w, elig, t_last, phi, conv_elig, elig_pow,
                              elig_inv_pow, w_min, w_max)
                    for k in range(n_elig):
                        r = elig_pre_trace[k]
                        if r >= 0:
                            elig[b, k, s] += elig_pre_gain[k] * traces[b, r, j]
                        elif r == -1:
                            elig[b, k, s] += elig_pre_gain[k]
                weight = w[b, s]
                target = slot + delay[s]
                if target >= n_slots:
                    target -= n_slots
                if weight >= 0.0:
                    input_buffer[b, target, 0, j] += weight
                else:
                    input_buffer[b, target, 1, j] += weight

        # 6. postsynaptic spikes: update + pair incoming plastic synapses.
        if n_conv > 0:
            for q in range(n_spikes):
                j = spikes[b, q]
                for p in range(col_ptr[j], col_ptr[j + 1]):
                    s = col_syn[p]
                    i = col_pre[p]
                    _catch_up(b, s, t_rel, w, elig, t_last, phi, conv_elig, elig_pow,
                              elig_inv_pow, w_min, w_max)
                    for k in range(n_elig):
                        r = elig_post_trace[k]
                        if r >= 0:
                            elig[b, k, s] += elig_post_gain[k] * traces[b, r, i]
                        elif r == -1:
                            elig[b, k, s] += elig_post_gain[k]

        # 7. neuron trace increments of this step's spikes.
        for r in range(n_traces):
            inc = trace_increment[r]
            if trace_set_mode[r]:
                for q in range(n_spikes):
                    traces[b, r, spikes[b, q]] = inc
            else:
                for q in range(n_spikes):
                    traces[b, r, spikes[b, q]] += inc

        # 8. recording.
        spike_count[b] += n_spikes
        if spike_cap > 0:
            pos = spike_written[b] % spike_cap
            for q in range(n_spikes):
                spike_times[b, pos] = t
                spike_ids[b, pos] = spikes[b, q]
                pos += 1
                if pos == spike_cap:
                    pos = 0
            spike_written[b] += n_spikes
        if probe_cap > 0 and t % probe_period == 0:
            pos = probe_written[b] % probe_cap
            probe_times[b, pos] = t
            for q in range(n_probe):
                probe_v[b, pos, q] = v[b, probe_ids[q]]
                probe_s1[b, pos, q] = s1[b, probe_ids[q]]
            for m in range(n_mod):
                probe_mod[b, pos, m] = mod_level[b, m]
            probe_written[b] += 1


@numba.njit(cache=True, parallel=True)
def run_population(
    t_start, n_steps,
    group_model, group_start, group_stop, nparams, v, s1, s2, refractory, input_buffer,
    net_keys, source_prob, bg_amp, bg_log1m_p, bg_next, bg_draw,
    row_ptr, post, delay, plastic_stop, col_ptr, col_syn, col_pre, w, elig, t_last,
    trace_decay, trace_increment, trace_set_mode, traces, elig_pre_trace, elig_pre_gain,
    elig_post_trace, elig_post_gain, conv_elig, conv_mod, conv_gain, bounds, elig_pow,
    elig_inv_pow, phi, epoch_start, segment_sign,
    mod_decay, mod_level, mod_pulse, mod_period, mod_phase, release,
    spike_count, spike_times, spike_ids, spike_written, probe_ids, probe_period, probe_times,
    probe_v, probe_s1, probe_mod, probe_written, spikes,
):
    """Advance every network of the population by ``n_steps`` (parallel over networks)."""
    for b in numba.prange(v.shape[0]):
        _run_network(
            b, t_start, n_steps,
            group_model, group_start, group_stop, nparams, v, s1, s2, refractory, input_buffer,
            net_keys, source_prob, bg_amp, bg_log1m_p, bg_next, bg_draw,
            row_ptr, post, delay, plastic_stop, col_ptr, col_syn, col_pre, w, elig, t_last,
            trace_decay, trace_increment, trace_set_mode, traces, elig_pre_trace, elig_pre_gain,
            elig_post_trace, elig_post_gain, conv_elig, conv_mod, conv_gain, bounds, elig_pow,
            elig_inv_pow, phi, epoch_start, segment_sign,
            mod_decay, mod_level, mod_pulse, mod_period, mod_phase, release,
            spike_count, spike_times, spike_ids, spike_written, probe_ids, probe_period,
            probe_times, probe_v, probe_s1, probe_mod, probe_written, spikes,
        )


@numba.njit(cache=True)
def initial_background(net_keys, bg_log1m_p, t, bg_next, bg_draw, neurons):
    """Schedule the next background pulse of ``neurons`` from step ``t`` on, with the next
    draw index (``bg_draw`` starts at -1, so the first schedule uses draw 0)."""
    for b in range(bg_next.shape[0]):
        for i in neurons:
            k = bg_draw[b, i] + 1
            bg_draw[b, i] = k
            bg_next[b, i] = t + background_gap(net_keys[b], i, k, bg_log1m_p[b, i]) - 1
