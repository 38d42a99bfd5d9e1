"""Slow, obviously correct reference for the spiking engine (pure Python + NumPy).

Written from the documented semantics, not from the kernels: every network is simulated
on its own, step by step, with every synapse updated densely at every step:

    c <- a_c c ;  w <- clip(w + dt sum_q g_q M_q c, w_min, w_max)   (all plastic synapses)

so there is no lazy bookkeeping, no epochs, no flushes: if the engine's lazy updates and
its clipping-at-touch semantics are right, both agree (identical spikes, state within
1e-9). The order of operations of one step is the one documented in
``agents/snn/network.py``. Random numbers follow the definition in ``agents/snn/rng.py``,
re-implemented here with Python integers.

The reference reads a :class:`agents.snn.Network` only through its public description
(populations and their model dataclasses, synapse table, initial weights, rule,
modulators, background, seeds), never the packed kernel arrays.
"""
from __future__ import annotations

import math

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
ODD = 0xD1B54A32D192ED03
SOURCE_SALT = 0x5EED0F5A11CE0001
BACKGROUND_SALT = 0xBAC6A0D0CAFE0002
NOISE_SALT = 0x401CE0C0FFEE0003
TRIGGER_SALT = 0x7A16E4ED0E1A0004


def splitmix_finaliser(z: int) -> int:
    z &= MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def to_unit(z: int) -> float:
    return (z >> 11) * 2.0**-53


def key_of(seed: int, network: int) -> int:
    return splitmix_finaliser(splitmix_finaliser(seed + GOLDEN) + (network + 1) * GOLDEN)


def source_draw(key: int, t: int, i: int) -> float:
    step_key = splitmix_finaliser((key ^ SOURCE_SALT) + t * GOLDEN)
    return to_unit(splitmix_finaliser(step_key + (i + 1) * ODD))


def noise_draw(key: int, t: int, i: int) -> float:
    step_key = splitmix_finaliser((key ^ NOISE_SALT) + t * GOLDEN)
    return to_unit(splitmix_finaliser(step_key + (i + 1) * ODD))


def trigger_delay(key: int, j: int, k: int, lo: int, hi: int) -> int:
    """Delay of the k-th firing of release trigger j, uniform on lo..hi steps."""
    h = splitmix_finaliser((key ^ TRIGGER_SALT) + (j + 1) * GOLDEN)
    u = to_unit(splitmix_finaliser(h + k * ODD))
    return lo + math.floor(u * (hi - lo + 1))


def background_gap(key: int, i: int, k: int, p: float) -> int | None:
    """Gap to the next pulse (>= 1 steps), or None for "never"."""
    if p <= 0.0:
        return None
    h = splitmix_finaliser((key ^ BACKGROUND_SALT) + (i + 1) * GOLDEN)
    u = 1.0 - to_unit(splitmix_finaliser(h + k * ODD))
    g = math.floor(math.log(u) / math.log1p(-p))
    if g >= 2.0**61:
        return None
    return g + 1


def _decay(tau_ms: float, dt_ms: float, kind: str) -> float:
    if math.isinf(tau_ms):
        return 1.0
    return math.exp(-dt_ms / tau_ms) if kind == "exact" else 1.0 - dt_ms / tau_ms


def describe(net) -> dict:
    """The public description of a freshly built (or flushed) network."""
    table = net.synapse_table()
    return {
        "dt_ms": net.dt_ms,
        "populations": [(p.start, p.stop, p.model) for p in net.populations],
        "n": net.n_neurons,
        "pre": table["pre"],
        "post": table["post"],
        "delay": table["delay"],
        "plastic": table["plastic"],
        "weights": net.weights().astype(np.float64),
        "rule": net.rule,
        "modulators": list(net.modulators),
        "background_probability": net.background_probability,
        "background_amplitude": net.background_amplitude,
        "source_probabilities": net.source_probabilities,
        "noise_low": net.noise_low,
        "noise_high": net.noise_high,
        "triggers": list(net.triggers),
        "seed": net.seed,
        "network_indices": list(net.network_indices),
    }


def simulate(desc: dict, n_steps: int, release=None) -> list[dict]:
    """Run every network of ``desc`` alone for ``n_steps``; returns one dict per network."""
    n_networks = len(desc["network_indices"])
    if release is not None:
        release = np.asarray(release, dtype=np.float64)
        if release.ndim == 2:  # same release for every network
            release = np.broadcast_to(release, (n_networks,) + release.shape)
    return [
        simulate_one(desc, b, n_steps, None if release is None else release[b])
        for b in range(n_networks)
    ]


def simulate_one(desc: dict, b: int, n_steps: int, release=None) -> dict:
    from agents.snn.models import ConductanceLIF, Izhikevich, LIF, PoissonSource

    dt = desc["dt_ms"]
    n = desc["n"]
    pre, post, delay, plastic = desc["pre"], desc["post"], desc["delay"], desc["plastic"]
    w = desc["weights"][b].copy()
    rule = desc["rule"]
    mods = desc["modulators"]
    key = key_of(desc["seed"], int(desc["network_indices"][b]))
    n_slots = int(delay.max()) + 1 if delay.size else 2

    # neuron state
    v = np.zeros(n)
    second = np.zeros(n)   # u / I_syn / g_exc
    third = np.zeros(n)    # g_inh
    refractory_left = np.zeros(n, dtype=np.int64)
    for start, stop, model in desc["populations"]:
        if isinstance(model, Izhikevich):
            v[start:stop] = model.v_init_mV
            second[start:stop] = model.b * model.v_init_mV
        elif isinstance(model, (LIF, ConductanceLIF)):
            v[start:stop] = model.v_rest_mV
    pending = np.zeros((n_slots, 2, n))  # [slot, exc/inh, neuron]

    # background pulses: next pulse time and draw index per neuron
    bg_p = desc["background_probability"]
    bg_amp = desc["background_amplitude"]
    bg_next = [None] * n
    bg_k = [0] * n
    for i in range(n):
        g = background_gap(key, i, 0, bg_p[i])
        bg_next[i] = None if g is None else g - 1
    src_p = desc["source_probabilities"][b]
    noise_low, noise_high = desc["noise_low"], desc["noise_high"]
    has_noise = bool(np.any(noise_low != 0) or np.any(noise_high != 0))
    triggers = desc["triggers"]
    trigger_last_pre = [None] * len(triggers)
    trigger_count = [0] * len(triggers)
    trigger_events = []          # (step fired, trigger index, release step)
    due = {}                     # step -> releases (per modulator) triggered for that step

    # plasticity
    trace_names = [tr.name for tr in rule.neuron_traces] if rule else []
    x = np.zeros((len(trace_names), n))
    x_decay = [_decay(tr.tau_ms, dt, rule.decay) for tr in rule.neuron_traces] if rule else []
    eligs = list(rule.eligibility_traces) if rule else []
    c = np.zeros((len(eligs), w.size))
    c_decay = [_decay(e.tau_ms, dt, rule.decay) for e in eligs]
    M = np.array([m.initial for m in mods], dtype=np.float64)
    spikes_t, spikes_i = [], []
    syn_of_pre = [np.nonzero(pre == i)[0] for i in range(n)]
    plastic_in = [np.nonzero((post == j) & plastic)[0] for j in range(n)]

    def trace_value(name, neuron):
        if name is None:
            return 0.0
        if name == "constant":
            return 1.0
        return x[trace_names.index(name), neuron]

    def paired(e, name, neuron):
        """What a pairing adds per unit gain: the trace, or max(0, trace - threshold)."""
        value = trace_value(name, neuron)
        if name is None or e.pairing_threshold is None:
            return value
        theta = e.pairing_threshold
        if e.threshold_modulator is not None:
            theta = theta - e.threshold_shift_per_unit * M[[m.name for m in mods].index(
                e.threshold_modulator)]
        return max(0.0, value - theta)

    for t in range(n_steps):
        # 1. modulators
        for m, mod in enumerate(mods):
            a_m = 0.0 if mod.tau_ms == 0 else _decay(mod.tau_ms, dt, mod.decay)
            level = M[m] * a_m
            if mod.pulse_period_steps > 0 and t >= mod.pulse_phase_steps and \
                    (t - mod.pulse_phase_steps) % mod.pulse_period_steps == 0:
                level += mod.pulse_amount
            if release is not None:
                level += release[t, m]
            level += due.get(t, np.zeros(len(mods)))[m]
            M[m] = level
        due.pop(t, None)

        # 3. neurons
        slot = t % n_slots
        exc_in = pending[slot, 0].copy()
        inh_in = pending[slot, 1].copy()
        pending[slot] = 0.0
        if has_noise:  # uniform noise current, added with the synaptic input
            exc_in = exc_in + np.array(
                [noise_low[i] + (noise_high[i] - noise_low[i]) * noise_draw(key, t, i)
                 for i in range(n)])
        bg = np.zeros(n)
        has_bg = np.zeros(n, dtype=bool)
        for i in range(n):
            if bg_next[i] == t:
                bg[i] = bg_amp[i]
                has_bg[i] = True
                bg_k[i] += 1
                g = background_gap(key, i, bg_k[i], bg_p[i])
                bg_next[i] = None if g is None else t + g
        fired = np.zeros(n, dtype=bool)
        for start, stop, model in desc["populations"]:
            sl = slice(start, stop)
            if isinstance(model, PoissonSource):
                for i in range(start, stop):
                    if src_p[i] > 0 and source_draw(key, t, i) < src_p[i]:
                        fired[i] = True
            elif isinstance(model, Izhikevich):
                current = exc_in[sl] + inh_in[sl]
                current = np.where(has_bg[sl], current + bg[sl], current)
                vv, uu = v[sl], second[sl]
                if model.integration == "half_steps":
                    h = 0.5 * dt
                    v1 = vv + h * (0.04 * vv * vv + 5.0 * vv + 140.0 - uu + current)
                    v1 = v1 + h * (0.04 * v1 * v1 + 5.0 * v1 + 140.0 - uu + current)
                    u1 = uu + dt * model.a_per_ms * (model.b * v1 - uu)
                else:
                    v1 = vv + dt * (0.04 * vv * vv + 5.0 * vv + 140.0 - uu + current)
                    u1 = uu + dt * model.a_per_ms * (model.b * vv - uu)
                spike = v1 >= model.v_peak_mV
                v[sl] = np.where(spike, model.c_mV, v1)
                second[sl] = np.where(spike, u1 + model.d, u1)
                fired[sl] = spike
            elif isinstance(model, LIF):
                em = math.exp(-dt / model.tau_m_ms)
                es = math.exp(-dt / model.tau_syn_ms)
                if model.tau_syn_ms == model.tau_m_ms:
                    prop = model.r_m_Mohm * dt / model.tau_m_ms * em
                else:
                    prop = model.r_m_Mohm * model.tau_syn_ms / (model.tau_syn_ms - model.tau_m_ms) * (es - em)
                current = second[sl] + exc_in[sl] + inh_in[sl]
                current = np.where(has_bg[sl], current + bg[sl], current)
                refr = refractory_left[sl] > 0
                v_free = model.v_rest_mV + (v[sl] - model.v_rest_mV) * em + prop * current
                spike = ~refr & (v_free >= model.v_thresh_mV)
                v[sl] = np.where(refr | spike, model.v_reset_mV, v_free)
                refractory_left[sl] = np.where(
                    spike, round(model.refractory_ms / dt), np.maximum(refractory_left[sl] - 1, 0))
                second[sl] = current * es
                fired[sl] = spike
            elif isinstance(model, ConductanceLIF):
                g_e = second[sl] + exc_in[sl]
                g_i = third[sl] - inh_in[sl]
                g_e = np.where(has_bg[sl] & (bg[sl] >= 0), g_e + bg[sl], g_e)
                g_i = np.where(has_bg[sl] & (bg[sl] < 0), g_i - bg[sl], g_i)
                refr = refractory_left[sl] > 0
                total = 1.0 + g_e + g_i
                v_inf = (model.v_rest_mV + g_e * model.e_exc_mV + g_i * model.e_inh_mV) / total
                v_free = v_inf + (v[sl] - v_inf) * np.exp(-(dt / model.tau_m_ms) * total)
                spike = ~refr & (v_free >= model.v_thresh_mV)
                v[sl] = np.where(refr | spike, model.v_reset_mV, v_free)
                refractory_left[sl] = np.where(
                    spike, round(model.refractory_ms / dt), np.maximum(refractory_left[sl] - 1, 0))
                second[sl] = g_e * math.exp(-dt / model.tau_exc_ms)
                third[sl] = g_i * math.exp(-dt / model.tau_inh_ms)
                fired[sl] = spike
        spiking = np.nonzero(fired)[0]
        for i in spiking:
            spikes_t.append(t)
            spikes_i.append(int(i))

        # 3b. release triggers
        fired_set = {int(i) for i in spiking}
        for j, trig in enumerate(triggers):
            if trig.preceded_by is not None and trig.preceded_by in fired_set:
                trigger_last_pre[j] = t
            if trig.neuron not in fired_set:
                continue
            if trig.preceded_by is not None:
                last = trigger_last_pre[j]
                if last is None or not 1 <= t - last <= trig.within_steps:
                    continue
            release_step = t + trigger_delay(key, j, trigger_count[j], *trig.delay_steps)
            trigger_count[j] += 1
            m = [mm.name for mm in mods].index(trig.modulator)
            due.setdefault(release_step, np.zeros(len(mods)))[m] += trig.amount
            trigger_events.append((t, j, release_step))

        # 4. decay of neuron traces and eligibilities
        for r in range(len(trace_names)):
            x[r] *= x_decay[r]
        for k in range(len(eligs)):
            c[k, plastic] *= c_decay[k]

        # 5. presynaptic spikes: pairing, then delivery of the current weight
        for i in spiking:
            for s in syn_of_pre[i]:
                j = post[s]
                if plastic[s]:  # pairs also without conversions (eligibility-only rule)
                    for k, e in enumerate(eligs):
                        c[k, s] += e.on_pre_gain * paired(e, e.on_pre_trace, j)
                target = (t + delay[s]) % n_slots
                pending[target, 0 if w[s] >= 0 else 1, j] += w[s]

        # 6. postsynaptic spikes
        if rule is not None:
            for j in spiking:
                for s in plastic_in[j]:
                    for k, e in enumerate(eligs):
                        c[k, s] += e.on_post_gain * paired(e, e.on_post_trace, pre[s])

        # 7. trace increments
        for r, tr in enumerate(rule.neuron_traces if rule else []):
            for i in spiking:
                x[r, i] = tr.increment if tr.mode == "set" else x[r, i] + tr.increment

        # 8. conversion, clipped at every (update) step (dense)
        period = 1
        if rule is not None and rule.weight_update_period_ms is not None:
            period = round(rule.weight_update_period_ms / dt)
        if rule is not None and rule.conversions and t % period == 0:
            dw = np.zeros(w.size)
            for conv in rule.conversions:
                k = [e.name for e in eligs].index(conv.eligibility)
                m = [mm.name for mm in mods].index(conv.modulator)
                dw += conv.gain * M[m] * (period * dt) * c[k]
            w[plastic] = np.clip(w[plastic] + dw[plastic], rule.w_min, rule.w_max)

    return {
        "spike_steps": np.array(spikes_t, dtype=np.int64),
        "spike_ids": np.array(spikes_i, dtype=np.int64),
        "weights": w,
        "eligibility": c,
        "traces": x,
        "v": v,
        "s1": second,
        "modulators": M,
        "trigger_events": np.array(trigger_events, dtype=np.int64).reshape(-1, 3),
    }
