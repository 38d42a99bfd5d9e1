"""TraceConditioning-v0 (issue 5): the spiking agent learns anticipatory licking under the CS
and not in the inter-trial interval, measured as in ``scripts/bench_agent.py trace``
(``trace_claim``) on fewer seeds with conservative thresholds; with dopamine shuffled in
time it does not."""
from __future__ import annotations

import pytest

from tests.bench_agent_module import bench

ENV_ID = "neuromod_gym/TraceConditioning-v0"


def lick_rates(kind: str, seeds, **params) -> list[dict]:
    return [bench.trace_claim(bench._train_for_trials(kind, seed, params, ENV_ID, {},
                                                      bench.TRACE_TRIALS).latent)
            for seed in seeds]


def test_trace_claim_on_fixed_data():
    """Licking exactly in the CS-US delay meets the criterion; licking always does not."""
    def step(trial, phase, lick):
        return {"trial": trial, "action_phase": phase, "lick": lick,
                "in_cs_us_delay": phase == "cs"}
    anticipating = [step(t, ph, ph == "cs") for t in range(150, 200)
                    for ph in ["iti"] * 30 + ["cs"] * 20 + ["us"]]
    result = bench.trace_claim(anticipating)
    assert result["lick_cs_us_delay"] == 1.0 and result["lick_iti"] == 0.0
    assert result["meets_claim"]
    always = [dict(x, lick=True) for x in anticipating]
    assert not bench.trace_claim(always)["meets_claim"]
    with pytest.raises(ValueError, match="trials"):
        bench.trace_claim(anticipating[:10], window=(0, 10))


def test_spiking_agent_licks_in_anticipation():
    """CS-US lick rate >= 0.6 and ITI lick rate <= 0.3 in >= 2 of 3 seeds (claim: 0.7 / 0.2)."""
    results = lick_rates("spiking", range(3))
    ok = [r["lick_cs_us_delay"] >= 0.6 and r["lick_iti"] <= 0.3 for r in results]
    assert sum(ok) >= 2, results


def test_shuffled_dopamine_does_not_learn_anticipation():
    """The agent's own TD errors delivered at random times: the same criterion fails."""
    results = lick_rates("spiking", range(2), dopamine="shuffled")
    assert not any(r["lick_cs_us_delay"] >= 0.6 and r["lick_iti"] <= 0.3 for r in results), results
