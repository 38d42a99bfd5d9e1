"""The engine's numba kernels: one multi-step run of one network, and the flush.

Only :mod:`agents.snn.network` calls these; it owns validation and the meaning of each
array (documented there). Everything here is allocation-free per step: scratch arrays
come from the caller, and a whole ``run(n_steps)`` of networks ``first .. stop-1`` is one
call (:func:`run_population`, a loop over the networks around the step loop; one
function, not a wrapper around a per-network one: the wrapper added about 45 % to the
cold compile of all kernels, measured in CPU seconds).

Population parallelism: the entry points are ``nogil`` and take a range of networks;
:class:`agents.snn.Network` gives each of ``numba.get_num_threads()`` Python threads one
contiguous chunk, and the threads execute truly in parallel. Looping over the chunk
inside numba matters for short runs: a call's argument checks cost about 12 us (80
arguments), i.e. one call per network per env step was a tenth of an agent's time. A
``numba.prange`` wrapper would do the same, but numba's parfor lowering of a 60-argument
loop body added about 13-19 s of cold compile time per dtype (measured), against a
budget of 30 s for all kernels. Each network's result depends only on its own arrays and
its counter-based random stream, so it is bitwise the same whatever the thread count or
scheduling.

All kernels are compiled with ``_nrt=False``: they never allocate, and without numba's
reference counting, passing arrays to the small inlined helpers is free (with it, each
helper call cost about 50-100 ns of atomic increfs, measured, i.e. most of Workload W).

Synapse records. The mutable state of synapse ``s`` of network ``b`` is one packed record
``syn[b, s, :] = (w, t_last, C_0, C_1, ...)`` so that touching a synapse costs one cache
line, not one per array (``t_last`` is an integer below 2**24 stored in the state dtype).

Accumulating rules (no conversions, no pairing thresholds, eligibility traces that never
decay: an agent's window eligibility, which the agent converts itself) keep no
eligibility in the records, which are then ``(w, t_last)``: their eligibility is
``acc[b, p, k]`` in the post -> pre index's order (:func:`_propagate_accumulating`), so a
post spike adds one contiguous run (a slice of the presynaptic traces when its inputs are
consecutive neurons) where the records took one cache line per incoming synapse.
Measured on the CartPole population of 8: the pairings about 2x cheaper and the agent's
trace update, which reads the eligibility as a contiguous ``(post, pre)`` matrix, 72 ->
21 us per vector step; env steps per second 2.78x -> 3.26x PPO's.

Lazy eligibility (why a synapse costs nothing between spikes). Time inside an epoch is
counted from the network's epoch start ``e``. A plastic synapse stores its eligibilities
in epoch units, ``C_k = c_k(t) a_k^-(t-e)``, which do NOT change while no spike touches
the synapse (``c_k`` just decays geometrically), ``w`` including every conversion before
step ``t_last``, and ``t_last``. The weight change owed for steps ``t_last .. t-1`` is,
per conversion ``q`` reading trace ``k``,

    sum_s g_q M_q(s) c_k(s) dt = C_k (Phi_q(t) - Phi_q(t_last))
    with  Phi_q(j) = sum_{e <= s < e+j} g_q M_q(s) a_k^(s-e) dt

so a touch costs one subtraction and one multiply-add per conversion; a spike increment
``c_k += x`` at step ``t`` is ``C_k += x a_k^-(t-e)``. The epoch table
``table[b, j, :] = (a_0^-j, ..., a_{E-1}^-j, Phi_0(j), ..., Phi_{K-1}(j))`` holds both:
a touch reads its own record, the row of its ``t_last`` and the row of the current step
(hot). Storing ``C`` instead of ``c`` saved about 20 % of Workload W (measured). Before
``a^-j`` grows past ``MAX_EPOCH_GROWTH`` (or the table is full) the kernel flushes every
synapse and starts a new epoch; it also flushes when the sign of any ``g_q M_q`` changes,
which is what makes touch-time clipping equal to per-step clipping (see plasticity.py).

The commonest converting rule (one eligibility trace, one conversion, neuron-trace
pairings without thresholds, one input channel: Izhikevich 2007 and Workload W) has its
own spike loop, :func:`_propagate_one_trace`: the same arithmetic in the same order as the
general loop, without the per-synapse loops over traces and conversions (about 1.5x
faster on Workload W, measured in alternating runs); a test checks the two are bitwise
equal.
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
from agents.snn.rng import (
    background_gap,
    noise_step_key,
    source_step_key,
    source_uniform,
    trigger_uniform,
)


# Columns of a synapse record.
W_COL = 0
T_COL = 1
ELIG_COL = 2


# Unsigned indices in the hot loops: numba adds negative-index wraparound code to every
# array access with a signed index and skips it for unsigned ones (about 20 % of the
# synapse loop, measured). Mixing uint64 with int64 would give float64 in numba, so every
# index expression below is built from U(...) values only.
U = np.uint64
EVENT_BLOCK = 32
U_W = U(W_COL)
U_T = U(T_COL)
U_ELIG = U(ELIG_COL)


@numba.njit(cache=True, inline="always", _nrt=False)
def _catch_up(s, t_rel, syn, table, conv_elig, w_min, w_max):
    """Bring plastic synapse ``s`` (uint64; records ``syn`` and epoch ``table`` of ONE
    network) up to epoch-relative step ``t_rel``: apply the conversions owed for the steps
    since its last update and clip the weight (the epoch-unit eligibilities ``C`` need no
    decay). A second call in the same step is a no-op."""
    j0 = np.int64(syn[s, U_T])
    if j0 == t_rel:
        return
    row0 = U(j0)
    row_now = U(t_rel)
    n_elig = U(syn.shape[1]) - U_ELIG
    dw = 0.0
    for q in range(U(conv_elig.shape[0])):
        k = U(conv_elig[q])
        dw += syn[s, U_ELIG + k] * (table[row_now, n_elig + q] - table[row0, n_elig + q])
    # branch-free clip: whether a bound binds is unpredictable once weights saturate, and
    # mispredicted branches cost about a quarter of Workload W's time (measured)
    syn[s, U_W] = min(max(syn[s, U_W] + dw, w_min), w_max)
    syn[s, U_T] = t_rel


@numba.njit(cache=True, nogil=True, _nrt=False)
def rebase_network(b, t, epoch_start, row_ptr, plastic_stop, syn, table, conv_elig, elig_pow,
                   bounds):
    """Flush network ``b``: bring every plastic synapse up to absolute step ``t`` (all
    conversions of steps < t applied, clipped), then start a new epoch at ``t``: the
    eligibilities are re-expressed in the new epoch's units, ``C <- C a^(t-e)`` = ``c(t)``
    before the increments of step ``t``."""
    t_rel = t - epoch_start[b]
    syn_b = syn[b]
    table_b = table[b]
    for i in range(plastic_stop.shape[0]):
        for s in range(U(row_ptr[i]), U(plastic_stop[i])):
            _catch_up(s, t_rel, syn_b, table_b, conv_elig, bounds[0], bounds[1])
            for k in range(U(syn.shape[2]) - U_ELIG):
                syn_b[s, U_ELIG + k] *= elig_pow[k, U(t_rel)]
            syn_b[s, U_T] = 0.0
    n_elig = syn.shape[2] - ELIG_COL
    for q in range(conv_elig.shape[0]):
        table_b[0, n_elig + q] = 0.0
    epoch_start[b] = t


@numba.njit(cache=True, inline="always", _nrt=False)
def _background_input(i, t, key, bg_amp, bg_log1m_p, bg_next, bg_draw):
    """Amplitude of neuron ``i``'s background pulse at step ``t`` (0 if none); schedules
    the next pulse when one fires. Arrays of one network."""
    if bg_next[i] != t:
        return 0.0
    k = bg_draw[i] + 1
    bg_draw[i] = k
    bg_next[i] = t + background_gap(key, i, k, bg_log1m_p[i])
    return bg_amp[i]


# Neuron updates of one group of ONE network (arrays without the network axis; ``inputs``
# is the (channel, neuron) input slot of this step, cleared as it is read). Each returns
# the new spike count after appending its spikes. Separate small functions on purpose:
# LLVM optimises them far better than one huge loop body (measured).


@numba.njit(cache=True, inline="always", _nrt=False)
def _take_input(inputs, i, base):
    """``base`` plus neuron ``i``'s pending input (channel 0, then 1), clearing it."""
    current = base + np.float64(inputs[0, i])
    inputs[0, i] = 0.0
    if inputs.shape[0] == 2:
        current += np.float64(inputs[1, i])
        inputs[1, i] = 0.0
    return current


@numba.njit(cache=True, _nrt=False)
def _source_step(start, stop, t, key, prob, inputs, spikes, n_spikes):
    step_key = source_step_key(key, t)
    for i in range(start, stop):
        for c in range(inputs.shape[0]):
            inputs[c, i] = 0.0  # sources ignore their input
        # branch-free (u < p is a coin flip the predictor misses; u >= 0, so p = 0 never
        # spikes): write the index, advance only on a spike
        spikes[n_spikes] = i
        n_spikes += source_uniform(step_key, i) < prob[i]
    return n_spikes


@numba.njit(cache=True, _nrt=False)
def _add_noise_current(start, stop, t, key, noise_low, noise_width, inputs):
    """Add each neuron's uniform noise current of step ``t`` (rng.py) to its input slot.
    Called only for groups that have noise, so networks without it pay nothing."""
    step_key = noise_step_key(key, t)
    for i in range(start, stop):
        inputs[0, i] += noise_low[i] + noise_width[i] * source_uniform(step_key, i)


@numba.njit(cache=True, _nrt=False)
def _fire_triggers(b, t, key, n_spikes, spikes, trig_neuron, trig_pre, trig_within,
                   trig_delay_lo, trig_delay_hi, trig_mod, trig_amount, trig_last_pre,
                   trig_count, scheduled, log_steps, log_ids, log_release, log_written):
    """Release triggers of network ``b`` at step ``t`` (see plasticity.ReleaseTrigger):
    scan this step's spikes once per trigger; a firing trigger adds its amount to the
    release ring ``scheduled[b, (t + delay) % n_slots, modulator]``, read in step 1."""
    n_slots = scheduled.shape[1]
    log_cap = log_steps.shape[1]
    for j in range(trig_neuron.shape[0]):
        pre = trig_pre[j]
        target = trig_neuron[j]
        fired = False
        for q in range(n_spikes):
            i = spikes[q]
            if i == pre:
                trig_last_pre[b, j] = t
            if i == target:
                fired = True
        if not fired:
            continue
        if pre >= 0:
            lag = t - trig_last_pre[b, j]
            if lag < 1 or lag > trig_within[j]:
                continue
        lo = trig_delay_lo[j]
        k = trig_count[b, j]
        delay = lo + np.int64(math.floor(trigger_uniform(key, j, k)
                                         * (trig_delay_hi[j] - lo + 1)))
        trig_count[b, j] = k + 1
        scheduled[b, (t + delay) % n_slots, trig_mod[j]] += trig_amount[j]
        if log_cap > 0:
            pos = log_written[b] % log_cap
            log_steps[b, pos] = t
            log_ids[b, pos] = j
            log_release[b, pos] = t + delay
            log_written[b] += 1


@numba.njit(cache=True, _nrt=False)
def _izhikevich_step(start, stop, t, key, params, v, u, inputs, bg_amp, bg_log1m_p, bg_next,
                     bg_draw, spikes, n_spikes):
    # Two passes: a branch-free integration loop that LLVM vectorises, then a loop over the
    # rare events (spike + reset, background redraw). About 1.8x faster than one loop.
    a_per_ms = params[0]
    b_coupling = params[1]
    dt_ms = params[5]
    two_channels = inputs.shape[0] == 2
    half_steps = params[6, start] != 0.0  # the scheme is a property of the population's model
    for i in range(U(start), U(stop)):
        current = np.float64(inputs[0, i])
        inputs[0, i] = 0.0
        if two_channels:
            current += np.float64(inputs[1, i])
            inputs[1, i] = 0.0
        current += bg_amp[i] if bg_next[i] == t else 0.0
        vv = np.float64(v[i])
        uu = np.float64(u[i])
        dt = dt_ms[i]
        if half_steps:
            half = 0.5 * dt
            vn = vv + half * (0.04 * vv * vv + 5.0 * vv + 140.0 - uu + current)
            vn = vn + half * (0.04 * vn * vn + 5.0 * vn + 140.0 - uu + current)
            u[i] = uu + dt * a_per_ms[i] * (b_coupling[i] * vn - uu)
        else:
            vn = vv + dt * (0.04 * vv * vv + 5.0 * vv + 140.0 - uu + current)
            u[i] = uu + dt * a_per_ms[i] * (b_coupling[i] * vv - uu)
        v[i] = vn
    v_peak = params[4]
    c_reset = params[2]
    d_jump = params[3]
    # events are rare (a few per step among all neurons): test blocks of EVENT_BLOCK neurons
    # with a vectorised OR first and only walk the blocks that contain one
    block_start = start
    while block_start < stop:
        block_stop = min(block_start + EVENT_BLOCK, stop)
        event = False
        for i in range(U(block_start), U(block_stop)):
            event |= (v[i] >= v_peak[i]) | (bg_next[i] == t)
        if event:
            for i in range(U(block_start), U(block_stop)):
                if bg_next[i] == t:
                    _background_input(i, t, key, bg_amp, bg_log1m_p, bg_next, bg_draw)
                if v[i] >= v_peak[i]:
                    v[i] = c_reset[i]
                    u[i] += d_jump[i]
                    spikes[n_spikes] = i
                    n_spikes += 1
        block_start = block_stop
    return n_spikes


@numba.njit(cache=True, _nrt=False)
def _lif_step(start, stop, t, key, params, v, i_syn, refractory, inputs, bg_amp, bg_log1m_p,
              bg_next, bg_draw, spikes, n_spikes):
    # Branch-free update (selects, not branches): whether a driven neuron spikes or is
    # refractory is unpredictable, and the mispredicted branches cost more than the whole
    # update (about 100 us per agent vector step, measured). Background pulses are read
    # here and rescheduled in a second pass over the rare neurons that got one.
    for i in range(start, stop):
        current = _take_input(inputs, i, np.float64(i_syn[i]))
        current += bg_amp[i] if bg_next[i] == t else 0.0
        v_rest = params[3, i]
        refr = refractory[i]
        held = refr > 0
        vn = v_rest + (np.float64(v[i]) - v_rest) * params[0, i] + params[1, i] * current
        spike = (refr <= 0) & (vn >= params[5, i])
        v[i] = params[4, i] if held or spike else vn
        refractory[i] = refr - 1 if held else (np.int32(params[6, i]) if spike else refr)
        spikes[n_spikes] = i
        n_spikes += spike
        i_syn[i] = current * params[2, i]
    for i in range(start, stop):
        if bg_next[i] == t:
            _background_input(i, t, key, bg_amp, bg_log1m_p, bg_next, bg_draw)
    return n_spikes


@numba.njit(cache=True, _nrt=False)
def _conductance_lif_step(start, stop, t, key, params, v, g_exc_state, g_inh_state, refractory,
                          inputs, bg_amp, bg_log1m_p, bg_next, bg_draw, spikes, n_spikes):
    # conductance networks always have two channels (Network ensures it)
    for i in range(start, stop):
        g_exc = np.float64(g_exc_state[i]) + np.float64(inputs[0, i])
        g_inh = np.float64(g_inh_state[i]) - np.float64(inputs[1, i])
        inputs[0, i] = 0.0
        inputs[1, i] = 0.0
        amp = _background_input(i, t, key, bg_amp, bg_log1m_p, bg_next, bg_draw)
        if amp >= 0.0:
            g_exc += amp
        else:
            g_inh -= amp
        if refractory[i] > 0:
            refractory[i] -= 1
            vn = params[2, i]
        else:
            total = 1.0 + g_exc + g_inh
            v_inf = (params[1, i] + g_exc * params[5, i] + g_inh * params[6, i]) / total
            vn = v_inf + (np.float64(v[i]) - v_inf) * math.exp(-params[0, i] * total)
            if vn >= params[3, i]:
                vn = params[2, i]
                refractory[i] = np.int32(params[4, i])
                spikes[n_spikes] = i
                n_spikes += 1
        v[i] = vn
        g_exc_state[i] = g_exc * params[7, i]
        g_inh_state[i] = g_inh * params[8, i]
    return n_spikes


@numba.njit(cache=True, _nrt=False)
def _decay_traces(traces, trace_decay):
    """x <- a x for every neuron trace of one network (a small function so that the loop
    over neurons is vectorised; inside the step loop it was not)."""
    for r in range(traces.shape[0]):
        a = trace_decay[r]
        if a != 1.0:
            x = traces[r]
            for i in range(x.shape[0]):
                x[i] = x[i] * a


@numba.njit(cache=True, inline="always", _nrt=False)
def _pairing(x, k, has_threshold, threshold, threshold_mod, threshold_shift, mod_levels):
    """Trace value ``x`` as seen by eligibility ``k``: itself, or rectified above the
    (modulator-shifted) pairing threshold."""
    if not has_threshold[k]:
        return x
    theta = threshold[k]
    m = threshold_mod[k]
    if m >= 0:
        theta -= threshold_shift[k] * mod_levels[m]
    return max(0.0, x - theta)


@numba.njit(cache=True, inline="always", _nrt=False)
def _deliver_weight(s, j, slot_now, two_channels, delay, syn, input_buffer):
    """Add the current weight of synapse ``s`` (uint64, onto neuron ``j``) to its target's
    input slot ``delay[s]`` steps ahead: channel 1 takes negative weights when there are
    two channels."""
    n_slots = U(input_buffer.shape[0])
    weight = syn[s, U_W]
    target = slot_now + U(delay[s])
    if target >= n_slots:
        target -= n_slots
    if two_channels and weight < 0.0:
        input_buffer[target, U(1), j] += weight
    else:
        input_buffer[target, U(0), j] += weight


@numba.njit(cache=True, inline="always", _nrt=False)
def _deliver(start, stop, dense, slot_now, two_channels, post, delay, syn, input_buffer):
    """Add the current weight of synapses ``start .. stop-1`` (uint64, one row) to their
    targets' input slots: the loop for weights that need no update. ``dense``: the row's
    synapses share one delay and reach consecutive neurons (an all-to-all projection):
    then, with one input channel, each synapse is one load and one add into a contiguous
    slice. Either way the sums are formed in the same order (synapse order)."""
    if start >= stop:
        return
    n_slots = U(input_buffer.shape[0])
    if two_channels:
        for s in range(start, stop):
            weight = syn[s, U_W]
            target = slot_now + U(delay[s])
            if target >= n_slots:
                target -= n_slots
            if weight < 0.0:
                input_buffer[target, U(1), U(post[s])] += weight
            else:
                input_buffer[target, U(0), U(post[s])] += weight
    elif dense:
        target = slot_now + U(delay[start])
        if target >= n_slots:
            target -= n_slots
        row = input_buffer[target, 0]
        first = U(post[start])
        for k in range(stop - start):
            row[first + k] += syn[start + k, U_W]
    else:
        for s in range(start, stop):
            target = slot_now + U(delay[s])
            if target >= n_slots:
                target -= n_slots
            input_buffer[target, U(0), U(post[s])] += syn[s, U_W]


@numba.njit(cache=True, _nrt=False)
def _propagate_one_trace(n_spikes, spikes, slot, t_rel, row_ptr, row_dense, post, delay,
                         plastic_stop, col_ptr, col_syn, col_pre, syn, table, w_min, w_max,
                         pre_gain, trace_on_pre, post_gain, trace_on_post, input_buffer):
    """:func:`_propagate_spikes` for the commonest converting rule (Izhikevich 2007, Workload
    W): one eligibility trace, converted once, paired on both spikes with neuron traces, no
    thresholds, one input channel. ``trace_on_pre``: the neuron trace (of the postsynaptic
    neuron) that a presynaptic spike pairs with, ``trace_on_post`` the one (of the
    presynaptic neuron) that a postsynaptic spike pairs with. The same operations in the same order as the general
    loop (bitwise equal results, tested), written without its per-synapse loops over
    traces and conversions, whose branches LLVM could not remove. A touch needs no
    early exit either: at ``t_last == t`` the owed change is ``C * 0``."""
    n_slots = U(input_buffer.shape[0])
    slot_now = U(slot)
    now = U(t_rel)
    phi_now = table[now, U(1)]
    scale = table[now, U(0)]
    for q in range(U(n_spikes)):
        i = U(spikes[q])
        plastic_end = U(plastic_stop[i])
        for s in range(U(row_ptr[i]), plastic_end):
            j = U(post[s])
            weight = syn[s, U_W] + syn[s, U_ELIG] * (phi_now - table[U(np.int64(syn[s, U_T])), U(1)])
            syn[s, U_W] = min(max(weight, w_min), w_max)
            syn[s, U_T] = t_rel
            syn[s, U_ELIG] += pre_gain * trace_on_pre[j] * scale
            target = slot_now + U(delay[s])
            if target >= n_slots:
                target -= n_slots
            input_buffer[target, U(0), j] += syn[s, U_W]  # as stored (float32 records)
        _deliver(plastic_end, U(row_ptr[i + U(1)]), row_dense[i] != 0, slot_now, False,
                 post, delay, syn, input_buffer)
    for q in range(U(n_spikes)):
        j = U(spikes[q])
        for p in range(U(col_ptr[j]), U(col_ptr[j + U(1)])):
            s = U(col_syn[p])
            weight = syn[s, U_W] + syn[s, U_ELIG] * (phi_now - table[U(np.int64(syn[s, U_T])), U(1)])
            syn[s, U_W] = min(max(weight, w_min), w_max)
            syn[s, U_T] = t_rel
            syn[s, U_ELIG] += post_gain * trace_on_post[U(col_pre[p])] * scale


@numba.njit(cache=True, _nrt=False)
def _propagate_accumulating(n_spikes, spikes, slot, t_rel, pre_pairs, two_channels, row_ptr,
                            row_dense, post, delay, plastic_stop, col_ptr, col_pre, col_dense,
                            syn, table, traces, elig_pre_trace, elig_pre_gain, elig_post_trace,
                            elig_post_gain, input_buffer, acc, acc_position):
    """Steps 5 and 6 of ONE network for an accumulating rule (no conversions, no
    thresholds, eligibility traces that do not decay): the pairings of the general loop,
    the same terms added in the same order, into ``acc[p, k]`` (post-major, see
    network.py) instead of the records. A post spike's pairings are one contiguous run of
    ``acc``, and with ``col_dense`` one contiguous slice of the presynaptic traces."""
    n_elig = U(acc.shape[1])
    slot_now = U(slot)
    now = U(t_rel)
    # 5. presynaptic spikes: pair outgoing plastic synapses (c += g x_post), deliver.
    for q in range(U(n_spikes)):
        i = U(spikes[q])
        static_start = U(row_ptr[i])
        if pre_pairs:
            static_start = U(plastic_stop[i])
            for s in range(U(row_ptr[i]), static_start):
                j = U(post[s])
                p = U(acc_position[s])
                for k in range(n_elig):
                    r = elig_pre_trace[k]
                    if r != -2:
                        x = traces[U(r), j] if r >= 0 else 1.0
                        acc[p, k] += elig_pre_gain[k] * x * table[now, k]
                _deliver_weight(s, j, slot_now, two_channels, delay, syn, input_buffer)
        _deliver(static_start, U(row_ptr[i + U(1)]), row_dense[i] != 0, slot_now, two_channels,
                 post, delay, syn, input_buffer)
    # 6. postsynaptic spikes: pair incoming plastic synapses (c += g x_pre).
    for q in range(U(n_spikes)):
        j = U(spikes[q])
        first = U(col_ptr[j])
        stop = U(col_ptr[j + U(1)])
        for k in range(n_elig):
            r = elig_post_trace[k]
            if r == -2 or stop == first:
                continue
            gain = elig_post_gain[k]
            scale = table[now, k]
            if r == -1:
                for p in range(first, stop):
                    acc[p, k] += gain * 1.0 * scale
            elif col_dense[j]:
                x_pre = traces[U(r), U(col_pre[first]):]
                for m in range(stop - first):
                    acc[first + m, k] += gain * x_pre[m] * scale
            else:
                x_pre = traces[U(r)]
                for p in range(first, stop):
                    acc[p, k] += gain * x_pre[U(col_pre[p])] * scale


@numba.njit(cache=True, _nrt=False)
def _propagate_spikes(n_spikes, spikes, slot, t_rel, converts, pairs, pre_pairs, two_channels,
                      row_ptr, row_dense, post, delay, plastic_stop, col_ptr, col_syn, col_pre,
                      syn, table, conv_elig, elig_pow, w_min, w_max, traces, elig_pre_trace, elig_pre_gain,
                      elig_post_trace, elig_post_gain, has_threshold, threshold, threshold_mod,
                      threshold_shift, mod_levels, input_buffer, acc, acc_position, col_dense):
    """Steps 5 and 6 of one step of ONE network (arrays without the network axis).

    ``converts``: the rule converts eligibility into weight (a touched synapse is brought
    up to date first); ``pairs``: the network has plastic synapses (pairings update their
    eligibility, also for a rule without conversions: an eligibility-only rule, whose
    weights are set from outside); ``pre_pairs``: some eligibility trace pairs on
    presynaptic spikes. A plastic synapse that a presynaptic spike neither updates nor
    pairs is delivered by the fast loop of static synapses.

    A separate, small function on purpose: inside the big step loop LLVM kept reloading
    array shapes and strides, and the synapse loop cost about 4x more (measured)."""
    if acc.shape[0] > 0:
        _propagate_accumulating(n_spikes, spikes, slot, t_rel, pre_pairs, two_channels, row_ptr,
                                row_dense, post, delay, plastic_stop, col_ptr, col_pre,
                                col_dense, syn, table, traces, elig_pre_trace, elig_pre_gain,
                                elig_post_trace, elig_post_gain, input_buffer, acc, acc_position)
        return
    n_elig = U(syn.shape[1]) - U_ELIG
    slot_now = U(slot)
    touch_pre = converts or (pairs and pre_pairs)
    threshold_any = False
    for k in range(n_elig):
        threshold_any |= has_threshold[k] != 0
    if (converts and n_elig == U(1) and conv_elig.shape[0] == 1 and conv_elig[0] == 0
            and not two_channels and not threshold_any and elig_pre_trace[0] >= 0
            and elig_post_trace[0] >= 0):
        _propagate_one_trace(n_spikes, spikes, slot, t_rel, row_ptr, row_dense, post, delay,
                             plastic_stop, col_ptr, col_syn, col_pre, syn, table, w_min, w_max,
                             elig_pre_gain[0], traces[U(elig_pre_trace[0])],
                             elig_post_gain[0], traces[U(elig_post_trace[0])], input_buffer)
        return
    # 5. presynaptic spikes: update + pair outgoing plastic synapses, deliver weights.
    for q in range(U(n_spikes)):
        i = U(spikes[q])
        static_start = U(row_ptr[i])
        if touch_pre:
            static_start = U(plastic_stop[i])
            for s in range(U(row_ptr[i]), static_start):
                j = U(post[s])
                if converts:
                    _catch_up(s, t_rel, syn, table, conv_elig, w_min, w_max)
                for k in range(n_elig):
                    r = elig_pre_trace[k]
                    if r != -2:
                        x = traces[U(r), j] if r >= 0 else 1.0
                        x = _pairing(x, k, has_threshold, threshold, threshold_mod,
                                     threshold_shift, mod_levels)
                        syn[s, U_ELIG + k] += elig_pre_gain[k] * x * table[U(t_rel), k]
                _deliver_weight(s, j, slot_now, two_channels, delay, syn, input_buffer)
        _deliver(static_start, U(row_ptr[i + U(1)]), row_dense[i] != 0, slot_now, two_channels,
                 post, delay, syn, input_buffer)
    # 6. postsynaptic spikes: update + pair incoming plastic synapses.
    if pairs and not converts and not threshold_any:
        # nothing to bring up to date and no thresholds: per eligibility trace, one tight
        # loop over the incoming synapses (the same sums as the general loop: each
        # synapse's trace k gets the same terms, in the same order)
        for q in range(U(n_spikes)):
            j = U(spikes[q])
            for k in range(n_elig):
                r = elig_post_trace[k]
                if r == -2:
                    continue
                gain = elig_post_gain[k]
                scale = table[U(t_rel), k]
                column = U_ELIG + k
                if r == -1:
                    for p in range(U(col_ptr[j]), U(col_ptr[j + U(1)])):
                        syn[U(col_syn[p]), column] += gain * 1.0 * scale
                else:
                    x_pre = traces[U(r)]
                    for p in range(U(col_ptr[j]), U(col_ptr[j + U(1)])):
                        syn[U(col_syn[p]), column] += gain * x_pre[U(col_pre[p])] * scale
    elif pairs:
        for q in range(U(n_spikes)):
            j = U(spikes[q])
            for p in range(U(col_ptr[j]), U(col_ptr[j + U(1)])):
                s = U(col_syn[p])
                i = U(col_pre[p])
                if converts:
                    _catch_up(s, t_rel, syn, table, conv_elig, w_min, w_max)
                for k in range(n_elig):
                    r = elig_post_trace[k]
                    if r != -2:
                        x = traces[U(r), i] if r >= 0 else 1.0
                        x = _pairing(x, k, has_threshold, threshold, threshold_mod,
                                     threshold_shift, mod_levels)
                        syn[s, U_ELIG + k] += elig_post_gain[k] * x * table[U(t_rel), k]


@numba.njit(cache=True, nogil=True, _nrt=False)
def run_population(
    first, stop, t_start, n_steps,
    # neurons
    group_model, group_start, group_stop, nparams, v, s1, s2, refractory, input_buffer,
    # random inputs
    net_keys, source_prob, bg_amp, bg_log1m_p, bg_next, bg_draw, group_noise, noise_low,
    noise_width,
    # synapses
    row_ptr, row_dense, post, delay, plastic_stop, col_ptr, col_syn, col_pre, syn,
    # rule
    trace_decay, trace_increment, trace_set_mode, traces, elig_pre_trace, elig_pre_gain,
    elig_post_trace, elig_post_gain, has_threshold, threshold, threshold_mod, threshold_shift,
    conv_elig, conv_mod, conv_gain, bounds, elig_pow, table, epoch_start, segment_sign,
    update_period,
    # modulators
    mod_decay, mod_level, mod_pulse, mod_period, mod_phase, release,
    # release triggers
    trig_neuron, trig_pre, trig_within, trig_delay_lo, trig_delay_hi, trig_mod, trig_amount,
    trig_last_pre, trig_count, scheduled, trig_log_steps, trig_log_ids, trig_log_release,
    trig_log_written,
    # recording and scratch
    spike_count, neuron_spike_count, spike_times, spike_ids, spike_written, probe_ids,
    probe_period, probe_times, probe_v, probe_s1, probe_mod, probe_written, spikes,
    # accumulating rules: eligibility in post-major order (network.py)
    acc, acc_position, col_dense,
):
    """Advance networks ``first .. stop-1`` by ``n_steps`` steps from absolute step
    ``t_start``, one network after the other (one call per thread chunk: a call's
    argument checks cost about 12 us, measured, most of a short run per network).

    ``input_buffer[b, slot, channel, neuron]`` holds pending input; with one channel all
    inputs share it, with two, channel 0 takes weights >= 0 and channel 1 weights < 0
    (conductance-based models need them apart). ``nparams[b, k, neuron]`` is parameter
    ``k`` of the neuron's model (models.pack_parameters)."""
    for b in range(first, stop):
        n = v.shape[1]
        n_groups = group_model.shape[0]
        n_slots = input_buffer.shape[1]
        two_channels = input_buffer.shape[2] == 2
        n_traces = traces.shape[1]
        n_elig = elig_pre_trace.shape[0]  # the rule's (records lack them when accumulating)
        n_conv = conv_elig.shape[0]
        # plastic synapses pair even when nothing converts (an eligibility-only rule: the
        # weights are set from outside, e.g. by an agent's own three-factor update)
        pairs = col_syn.shape[0] > 0
        pre_pairs = n_elig < 0  # False, but not a literal: see n_spikes below
        for k in range(n_elig):
            pre_pairs |= elig_pre_trace[k] != -2
        n_mod = mod_level.shape[1]
        epoch_len = table.shape[1] - 1
        w_min = bounds[0]
        w_max = bounds[1]
        key = net_keys[b]
        has_release = release.shape[1] > 0
        n_trig = trig_neuron.shape[0]
        n_sched = scheduled.shape[1]
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
                if n_trig > 0:
                    level += scheduled[b, t % n_sched, m]
                    scheduled[b, t % n_sched, m] = 0.0
                mod_level[b, m] = level

            # 2. flush + new epoch on a sign change of any conversion, or a full epoch. With a
            # weight update period only update steps convert (x = 0 in between: no flush).
            if n_conv > 0:
                converts = update_period == 1 or t % update_period == 0
                need_flush = t - epoch_start[b] >= epoch_len
                for q in range(n_conv):
                    x = conv_gain[b, q] * mod_level[b, conv_mod[q]] if converts else 0.0
                    if (x > 0.0 and segment_sign[b, q] < 0) or (x < 0.0 and segment_sign[b, q] > 0):
                        need_flush = True
                if need_flush:
                    rebase_network(b, t, epoch_start, row_ptr, plastic_stop, syn, table, conv_elig,
                                   elig_pow, bounds)
                    for q in range(n_conv):
                        segment_sign[b, q] = 0
                j = t - epoch_start[b]
                for q in range(n_conv):
                    x = conv_gain[b, q] * mod_level[b, conv_mod[q]] if converts else 0.0
                    if x > 0.0:
                        segment_sign[b, q] = 1
                    elif x < 0.0:
                        segment_sign[b, q] = -1
                    # dt (times the update period) is folded into conv_gain by the caller.
                    table[b, j + 1, n_elig + q] = table[b, j, n_elig + q] + x * elig_pow[conv_elig[q], j]
            elif pairs and t - epoch_start[b] >= epoch_len:
                # pairings index the epoch table too: rebase before it runs out
                rebase_network(b, t, epoch_start, row_ptr, plastic_stop, syn, table, conv_elig,
                               elig_pow, bounds)
            t_rel = t - epoch_start[b]

            # 3. neurons: inputs of this step, integration, spikes.
            slot = t % n_slots
            # a plain 0 is typed Literal[int](0) at the first call of each neuron update,
            # which then compiles twice (for the literal and for int64)
            n_spikes = n_steps - n_steps
            for g in range(n_groups):
                model = group_model[g]
                start = group_start[g]
                stop = group_stop[g]
                if group_noise[g]:
                    _add_noise_current(start, stop, t, key, noise_low, noise_width,
                                       input_buffer[b, slot])
                if model == MODEL_SOURCE:
                    n_spikes = _source_step(start, stop, t, key, source_prob[b], input_buffer[b, slot],
                                            spikes[b], n_spikes)
                elif model == MODEL_IZHIKEVICH:
                    n_spikes = _izhikevich_step(start, stop, t, key, nparams[b], v[b], s1[b],
                                                input_buffer[b, slot], bg_amp[b], bg_log1m_p[b],
                                                bg_next[b], bg_draw[b], spikes[b], n_spikes)
                elif model == MODEL_LIF:
                    n_spikes = _lif_step(start, stop, t, key, nparams[b], v[b], s1[b], refractory[b],
                                         input_buffer[b, slot], bg_amp[b], bg_log1m_p[b], bg_next[b],
                                         bg_draw[b], spikes[b], n_spikes)
                elif model == MODEL_CONDUCTANCE_LIF:
                    n_spikes = _conductance_lif_step(start, stop, t, key, nparams[b], v[b], s1[b],
                                                     s2[b], refractory[b], input_buffer[b, slot],
                                                     bg_amp[b], bg_log1m_p[b], bg_next[b],
                                                     bg_draw[b], spikes[b], n_spikes)

            # 3b. release triggers watching this step's spikes (none: nothing to do).
            if n_trig > 0:
                _fire_triggers(b, t, key, n_spikes, spikes[b], trig_neuron, trig_pre, trig_within,
                               trig_delay_lo, trig_delay_hi, trig_mod, trig_amount, trig_last_pre,
                               trig_count, scheduled, trig_log_steps, trig_log_ids,
                               trig_log_release, trig_log_written)

            # 4. neuron traces decay (before this step's pairings read them).
            _decay_traces(traces[b], trace_decay)

            # 5.-6. pre spikes (pair + deliver) and post spikes (pair)
            _propagate_spikes(
                n_spikes, spikes[b], slot, t_rel, n_conv > 0, pairs, pre_pairs, two_channels, row_ptr,
                row_dense, post, delay, plastic_stop, col_ptr, col_syn, col_pre, syn[b], table[b], conv_elig, elig_pow,
                w_min, w_max, traces[b], elig_pre_trace, elig_pre_gain, elig_post_trace,
                elig_post_gain, has_threshold, threshold, threshold_mod, threshold_shift,
                mod_level[b], input_buffer[b], acc[b], acc_position, col_dense)

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
            for q in range(n_spikes):
                neuron_spike_count[b, spikes[b, q]] += 1
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


@numba.njit(cache=True, nogil=True, _nrt=False)
def rebase_population(first, stop, t, epoch_start, row_ptr, plastic_stop, syn, table,
                      conv_elig, elig_pow, bounds):
    """:func:`rebase_network` (the flush) for networks ``first .. stop-1``."""
    for b in range(first, stop):
        rebase_network(b, t, epoch_start, row_ptr, plastic_stop, syn, table, conv_elig,
                       elig_pow, bounds)


@numba.njit(cache=True, nogil=True, _nrt=False)
def fill_records(syn, column, values):
    """``syn[b, s, column] = values[s]`` for every network ``b`` and synapse ``s``: shared
    weights in one pass over the records (about 1 ns per record)."""
    for b in range(syn.shape[0]):
        syn_b = syn[b]
        for s in range(U(syn.shape[1])):
            syn_b[s, U(column)] = values[s]


@numba.njit(cache=True, _nrt=False)
def initial_background(net_keys, bg_log1m_p, t, bg_next, bg_draw, neurons):
    """Schedule the next background pulse of ``neurons`` from step ``t`` on, with the next
    draw index (``bg_draw`` starts at -1, so the first schedule uses draw 0)."""
    for b in range(bg_next.shape[0]):
        for i in neurons:
            k = bg_draw[b, i] + 1
            bg_draw[b, i] = k
            bg_next[b, i] = t + background_gap(net_keys[b], i, k, bg_log1m_p[b, i]) - 1
