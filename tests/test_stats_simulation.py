"""Simulation checks of the default DiD inference (slow).

The full-size figures (1,000 rollouts per check) come from benchmarks/sim_stats.py; these
are the same checks with 300 rollouts, with bounds widened by the Monte-Carlo error
(about ±2.5 points at 5 %, ±2.5 points at 95 %). The weekly-looks check runs in the default
suite (tests/test_stats_sequential.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from wecom_eval import stats
from wecom_eval.stats._simulate import simulate_rollout

REPS = 300


@pytest.mark.slow
def test_default_inference_keeps_its_level_where_cr1_does_not() -> None:
    rng = np.random.default_rng(11)
    default = cr1 = 0
    for _ in range(REPS):
        df = simulate_rollout(rng)  # 3 of 12 departments, no effect
        r = stats.did(df, outcome="hours", treated="pilot", post="post", cluster="dept", transform="log")
        default += r.p_value <= 0.05
        cr1 += r.cr1_p_value <= 0.05
    assert 0.02 <= default / REPS <= 0.085
    assert cr1 / REPS > 0.085  # cluster-robust t over-rejects with 3 treated departments


@pytest.mark.slow
def test_default_intervals_cover_a_30_percent_reduction() -> None:
    rng = np.random.default_rng(12)
    covered = 0
    for _ in range(REPS):
        df = simulate_rollout(rng, reduction=0.30)
        r = stats.did(df, outcome="hours", treated="pilot", post="post", cluster="dept", transform="log")
        covered += r.relative_ci_low <= -0.30 <= r.relative_ci_high
    assert 0.91 <= covered / REPS <= 0.99
