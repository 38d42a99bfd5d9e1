"""DistalReward-v0 (issue 5; Izhikevich 2007): with the reward 1-3 s after the rewarded
cue-response pairing, the agents learn the pairing cue-specifically, measured as in
``scripts/bench_agent.py distal`` (``distal_claim``) on fewer seeds with conservative
thresholds; with the delay moved to 8-10 s (beyond the eligibility trace) they do not."""
from __future__ import annotations

import numpy as np
import pytest

from tests.bench_agent_module import bench

ENV_ID = "neuromod_gym/DistalReward-v0"


def claims(kind: str, seeds, env_kwargs=None, **params) -> list[dict]:
    return [bench.distal_claim(bench._train_for_trials(kind, seed, params, ENV_ID,
                                                       env_kwargs or {},
                                                       bench.DISTAL_TRIALS).latent)
            for seed in seeds]


def test_distal_claim_on_fixed_data():
    """Cue-specific responding meets the criterion; "always the rewarded response" (the
    known loophole) scores 1.0 on the rewarded cue and still fails."""
    rng = np.random.default_rng(0)
    steps = []
    for trial in range(400, 500):
        cue = int(rng.integers(4))
        response = 1 if cue == 2 else int(rng.integers(2))
        steps.append({"trial": trial, "cue": cue, "response": response,
                      "rewarded_cue": 2, "rewarded_response": 1})
        steps.append({"trial": trial, "cue": -1, "response": -1,
                      "rewarded_cue": 2, "rewarded_response": 1})
    result = bench.distal_claim(steps)
    assert result["p_rewarded_on_cue"] == 1.0 and result["meets_claim"], result
    loophole = bench.distal_claim([dict(x, response=1) if x["cue"] >= 0 else x for x in steps])
    assert loophole["p_rewarded_on_cue"] == 1.0 and loophole["p_rewarded_other_cues"] == 1.0
    assert not loophole["meets_claim"]
    with pytest.raises(ValueError, match="trials"):
        bench.distal_claim(steps, window=(0, 10))


def _means(results: list[dict]) -> tuple[float, float]:
    return (float(np.mean([r["p_rewarded_on_cue"] for r in results])),
            float(np.mean([r["p_rewarded_other_cues"] for r in results])))


def test_twin_learns_pairing_at_1_3_s_not_at_8_10_s():
    """Over 12 seeds (the twin is fast): mean P(rewarded response | rewarded cue) >= 0.7 with
    the 1-3 s delay, other cues near chance (mean <= 0.65), and mean <= 0.6 with 8-10 s
    (measured: 0.80 / 0.53 and 0.43). Per seed the issue's claim (>= 0.8 in >= 8/10) does
    NOT hold yet: see the benchmark."""
    on, off = _means(claims("twin", range(12)))
    on_long, _ = _means(claims("twin", range(12), {"reward_delay_ms": (8000.0, 10000.0)}))
    assert on >= 0.7 and off <= 0.65 and on_long <= 0.6, (on, off, on_long)


def test_spiking_agent_learns_pairing():
    """Spiking agent, 6 seeds: mean P(rewarded response | rewarded cue) >= 0.65 and other
    cues near chance (mean <= 0.65); chance is 0.5 (measured: 0.75 / 0.52)."""
    on, off = _means(claims("spiking", range(6)))
    assert on >= 0.65 and off <= 0.65, (on, off)
