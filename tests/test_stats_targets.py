"""stats.proportion_vs_target and mean_vs_target: published intervals, scipy tests, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from wecom_eval import stats
from wecom_eval.stats.targets import proportion_p_value, proportion_vs_target


def test_wilson_and_clopper_pearson_match_newcombe_1998() -> None:
    # Newcombe (1998), Two-sided confidence intervals for the single proportion, Statistics
    # in Medicine 17:857-872, Table II, 81/263: Wilson 0.2553-0.3662, exact 0.2527-0.3676
    # (95 % two-sided = one-sided bounds at alpha = 0.025).
    w = stats.proportion_vs_target(81, 263, target=0.3, alpha=0.025)
    assert (round(w.ci_low, 4), round(w.ci_high, 4)) == (0.2553, 0.3662)
    e = stats.proportion_vs_target(81, 263, target=0.3, alpha=0.025, method="exact")
    assert (round(e.ci_low, 4), round(e.ci_high, 4)) == (0.2527, 0.3676)
    assert w.confidence == pytest.approx(0.95)


@pytest.mark.parametrize("x,n", [(0, 20), (1, 29), (15, 148), (640, 1000), (50, 50)])
def test_bounds_match_statsmodels(x: int, n: int) -> None:
    # statsmodels.stats.proportion.proportion_confint(..., alpha=2 * 0.05): the ends of the
    # two-sided 90 % interval are the one-sided 95 % bounds.
    w = stats.proportion_vs_target(x, n, target=0.5)
    assert (w.ci_low, w.ci_high) == pytest.approx(proportion_confint(x, n, alpha=0.1, method="wilson"), abs=1e-12)
    e = stats.proportion_vs_target(x, n, target=0.5, method="exact")
    assert (e.ci_low, e.ci_high) == pytest.approx(proportion_confint(x, n, alpha=0.1, method="beta"), abs=1e-10)


def test_p_values_match_scipy_binomtest_and_agree_with_the_verdict() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(5, 400))
        x = int(rng.integers(0, n + 1))
        target = float(rng.uniform(0.05, 0.95))
        alt = "greater" if rng.random() < 0.5 else "less"
        for method in ("wilson", "exact"):
            r = stats.proportion_vs_target(x, n, target=target, alternative=alt, method=method)
            ref = sps.binomtest(x, n, target, alternative=alt).pvalue
            assert r.exact_p_value == pytest.approx(ref, rel=1e-10)
            if method == "exact":
                assert r.p_value == pytest.approx(ref, rel=1e-10)
            # duality: "met" exactly when the matching one-sided test rejects
            assert (r.verdict == "met") == (r.p_value <= 0.05 + 1e-12)


def test_verdicts_for_a_floor_and_a_ceiling() -> None:
    assert stats.proportion_vs_target(640, 1000, target=0.6).verdict == "met"
    # estimate above target, lower bound below: not yet shown
    assert stats.proportion_vs_target(61, 100, target=0.6).verdict == "not_yet_shown"
    # estimate below target, upper bound still above: not yet shown (not missed)
    below = stats.proportion_vs_target(57, 100, target=0.6)
    assert below.estimate < 0.6 < below.ci_high and below.verdict == "not_yet_shown"
    assert stats.proportion_vs_target(45, 100, target=0.6).verdict == "missed"
    # a ceiling: share of approvals over 4 hours must stay at most 20 %
    assert stats.proportion_vs_target(100, 1000, target=0.2, alternative="less").verdict == "met"
    assert stats.proportion_vs_target(300, 1000, target=0.2, alternative="less").verdict == "missed"


def test_a_full_registration_target_is_a_census_condition() -> None:
    full = stats.proportion_vs_target(1200, 1200, target=1.0)
    assert full.verdict == "met" and "census" in full.warnings[0]
    assert stats.proportion_vs_target(1199, 1200, target=1.0).verdict == "missed"


def test_mean_vs_target_matches_scipy_one_sided_t() -> None:
    rng = np.random.default_rng(1)
    x = rng.choice([1, 2, 3, 4, 5], size=120, p=[0.02, 0.05, 0.13, 0.4, 0.4]).astype(float)
    r = stats.mean_vs_target(x, target=4.0)
    # scipy.stats.ttest_1samp(x, 4.0, alternative="greater") and its 95 % one-sided bound
    ref = sps.ttest_1samp(x, 4.0, alternative="greater")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.ci_low == pytest.approx(ref.confidence_interval(0.95).low, rel=1e-12)
    ref_less = sps.ttest_1samp(x, 4.0, alternative="less")
    assert r.ci_high == pytest.approx(ref_less.confidence_interval(0.95).high, rel=1e-12)
    assert (r.verdict == "met") == (ref.pvalue <= 0.05)


def test_bca_bounds_agree_with_scipy_bootstrap() -> None:
    # scipy.stats.bootstrap(method="BCa") at confidence 0.90 gives the two one-sided 95 %
    # bounds; both are Monte Carlo, so agreement is to about 0.01 on a 1-5 scale.
    rng = np.random.default_rng(2)
    x = rng.choice([1, 2, 3, 4, 5], size=200, p=[0.05, 0.05, 0.1, 0.3, 0.5]).astype(float)
    r = stats.mean_vs_target(x, target=4.5, n_boot=20_000)
    ref = sps.bootstrap(
        (x,), np.mean, method="BCa", confidence_level=0.90, n_resamples=20_000, random_state=3
    ).confidence_interval
    assert r.boot_ci_low == pytest.approx(ref.low, abs=0.015)
    assert r.boot_ci_high == pytest.approx(ref.high, abs=0.015)


def test_satisfaction_verdicts() -> None:
    assert stats.mean_vs_target([5.0] * 30 + [4.0] * 5, target=4.5).verdict == "met"
    assert stats.mean_vs_target([4.0] * 30 + [3.0] * 5, target=4.5).verdict == "missed"
    assert stats.mean_vs_target([5.0, 4.0, 5.0, 4.0, 5.0], target=4.5).verdict == "not_yet_shown"


def test_misuse() -> None:
    with pytest.raises(ValueError, match="cannot exceed n"):
        stats.proportion_vs_target(11, 10, target=0.5)
    with pytest.raises(ValueError, match=r"target must be a share in \[0, 1\]"):
        stats.proportion_vs_target(5, 10, target=60)
    with pytest.raises(ValueError, match="alternative must be one of"):
        stats.proportion_vs_target(5, 10, target=0.5, alternative="two-sided")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        stats.proportion_vs_target(0, 0, target=0.5)
    with pytest.raises(ValueError, match="at least 2"):
        stats.mean_vs_target([4.0], target=4.5)


def test_mean_vs_target_clustered_by_department_matches_statsmodels() -> None:
    # Reference: statsmodels OLS of the score on a constant, cov_type="cluster" by
    # department, use_t=True (CR1 with G/(G-1)(n-1)/(n-k), k = 1, t with G - 1 df).
    import pandas as pd
    import statsmodels.api as sm

    rng = np.random.default_rng(8)
    dept = np.repeat(np.arange(9), rng.integers(5, 30, 9))
    scores = np.clip(np.round(4.2 + rng.normal(0, 0.4, 9)[dept] + rng.normal(0, 0.8, dept.size)), 1, 5)
    r = stats.mean_vs_target(scores, target=4.5, clusters=dept, n_boot=199)
    ref = sm.OLS(scores, np.ones_like(scores)).fit(cov_type="cluster", cov_kwds={"groups": dept}, use_t=True)
    lo, hi = ref.conf_int(alpha=0.10)[0]
    assert (r.ci_low, r.ci_high) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))
    assert r.n_clusters == 9 and "clustered" in r.method
    # design effect: clustered variance over s^2 / n
    assert r.design_effect == pytest.approx(ref.bse[0] ** 2 / (scores.var(ddof=1) / scores.size), rel=1e-9)
    assert r.design_effect > 1  # department moods make answers alike
    one = stats.mean_vs_target(scores, target=4.5, clusters=np.zeros(scores.size), n_boot=199)
    assert np.isnan(one.ci_low) and one.verdict == "not_yet_shown" and "one department" in one.warnings[0]
    pd.testing.assert_series_equal(pd.Series([r.estimate]), pd.Series([scores.mean()]))


@pytest.mark.parametrize("method", ["wilson", "exact"])
@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_the_p_value_alone_is_the_full_results_p_value(method: str, alternative: str) -> None:
    # judge() asks for the second side's p-value alone: it must be the very same number.
    for successes, n, target in [
        (0, 10, 0.3),
        (7, 10, 0.6),
        (640, 1000, 0.6),
        (30, 30, 1.0),
        (0, 5, 0.0),
        (12, 40, 0.8),
    ]:
        full = proportion_vs_target(successes, n, target=target, alternative=alternative, method=method)  # type: ignore[arg-type]
        alone = proportion_p_value(successes, n, target=target, alternative=alternative, method=method)  # type: ignore[arg-type]
        assert alone == full.p_value or (math.isnan(alone) and math.isnan(full.p_value))
