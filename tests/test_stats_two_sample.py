"""stats.welch_log, mann_whitney_hl, ratio_of_medians_bootstrap: pinned to scipy and SAS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from wecom_eval import stats
from wecom_eval.stats.two_sample import _kth_difference, _u_distribution, bootstrap_medians

# Hollander, Wolfe & Chicken (2014) example as run through SAS PROC NPAR1WAY HL in the
# PHUSE CAMIS comparison ("Non-parametric point estimation in SAS"): location shift A - B
# 0.5600, asymptotic (Moses) 95 % limits -0.3700 and 1.1830.
A = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
B = [0.878, 0.647, 0.598, 2.050, 1.060, 1.290, 1.060, 3.140, 1.290]


def frame(x: np.ndarray | list[float], y: np.ndarray | list[float]) -> pd.DataFrame:
    return pd.DataFrame({"v": np.r_[x, y], "g": ["new"] * len(x) + ["old"] * len(y)})


def test_welch_log_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.lognormal(2.5, 0.9, 80), rng.lognormal(3.0, 1.2, 120)
    r = stats.welch_log(frame(x, y), value="v", group="g", baseline="old", comparison="new")
    # scipy.stats.ttest_ind(log x, log y, equal_var=False) and its confidence_interval()
    ref = sps.ttest_ind(np.log(x), np.log(y), equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.estimate == pytest.approx(np.exp(np.log(x).mean() - np.log(y).mean()), rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx((np.exp(ci.low), np.exp(ci.high)), rel=1e-10)
    assert r.measure == "ratio_of_geometric_means" and r.n_baseline == 120


def test_mann_whitney_hl_matches_sas_npar1way() -> None:
    r = stats.mann_whitney_hl(frame(A, B), value="v", group="g", baseline="old", comparison="new")
    assert round(r.estimate, 4) == 0.56
    assert (round(r.ci_low, 4), round(r.ci_high, 4)) == (-0.37, 1.183)
    # p-value: scipy.stats.mannwhitneyu(A, B, method="asymptotic") (ties present)
    assert r.p_value == pytest.approx(sps.mannwhitneyu(A, B, alternative="two-sided", method="asymptotic").pvalue)


def test_exact_u_distribution_matches_scipy_and_tables() -> None:
    rng = np.random.default_rng(1)
    for n1, n0 in ((4, 6), (7, 9), (10, 10)):
        cdf = np.cumsum(_u_distribution(n1, n0))
        for _ in range(5):
            x, y = rng.normal(size=n1), rng.normal(size=n0)
            ref = sps.mannwhitneyu(x, y, method="exact", alternative="less")
            assert cdf[int(ref.statistic)] == pytest.approx(ref.pvalue, rel=1e-12)
    # Published two-sided 5 % critical values of U (reject when U <= c):
    # n = (5,5): 2, (8,8): 13, (9,9): 17, (10,10): 23 — standard Mann-Whitney tables.
    for n, c in ((5, 2), (8, 13), (9, 17), (10, 23)):
        cdf = np.cumsum(_u_distribution(n, n))
        assert cdf[c] <= 0.025 < cdf[c + 1]


def test_exact_interval_uses_the_exact_critical_value() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(1, 1, 9), rng.normal(0, 1, 9)
    r = stats.mann_whitney_hl(frame(x, y), value="v", group="g", baseline="old", comparison="new", method="exact")
    d = np.sort((x[:, None] - y[None, :]).ravel())
    # k = 17 + 1 from the table above: the 18th smallest and 18th largest differences
    assert (r.ci_low, r.ci_high) == (d[17], d[-18])
    assert r.estimate == pytest.approx(np.median(d))
    assert r.p_value == pytest.approx(sps.mannwhitneyu(x, y, method="exact").pvalue)


def test_large_sample_selection_equals_sorting() -> None:
    rng = np.random.default_rng(3)
    xs, ys = np.sort(rng.lognormal(size=1600)), np.sort(rng.lognormal(size=1500))
    d = np.sort((xs[:, None] - ys[None, :]).ravel())
    for k in (1, 1000, 1_200_000, d.size):
        assert _kth_difference(xs, ys, k) == d[k - 1]


def test_hodges_lehmann_ratio_on_logs() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.lognormal(2.0, 0.7, 300), rng.lognormal(2.4, 0.7, 300)
    r = stats.mann_whitney_hl(frame(x, y), value="v", group="g", baseline="old", comparison="new", transform="log")
    ref = np.exp(np.median(np.log(x)[:, None] - np.log(y)[None, :]))
    assert r.estimate == pytest.approx(ref)
    assert r.ci_low < r.estimate < r.ci_high and r.measure == "hodges_lehmann_ratio"
    assert abs(np.log(r.estimate) + 0.4) < 0.15  # true log ratio -0.4


def test_bootstrap_median_draws_have_the_resampling_distribution() -> None:
    # Exact order-statistic draws against brute-force resampling (np.median of resamples).
    rng = np.random.default_rng(5)
    for n in (31, 40):
        x = rng.lognormal(size=n)
        fast = bootstrap_medians(x, 40_000, rng)
        slow = np.median(x[rng.integers(0, n, size=(40_000, n))], axis=1)
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            assert np.quantile(fast, q) == pytest.approx(np.quantile(slow, q), rel=0.03)


def test_ratio_of_medians_interval() -> None:
    rng = np.random.default_rng(6)
    x, y = rng.lognormal(2.0, 1.0, 500), rng.lognormal(2.5, 1.0, 500)
    r = stats.ratio_of_medians_bootstrap(frame(x, y), value="v", group="g", baseline="old", comparison="new")
    assert r.estimate == pytest.approx(np.median(x) / np.median(y))
    assert r.ci_low < r.estimate < r.ci_high
    assert r.ci_low < np.exp(-0.5) < r.ci_high
    assert r.p_value < 0.01


def test_misuse() -> None:
    df = frame(A, B)
    with pytest.raises(ValueError, match="baseline='legacy' is not a value"):
        stats.welch_log(df, value="v", group="g", baseline="legacy", comparison="new")
    with pytest.raises(ValueError, match="<= 0"):
        stats.welch_log(frame([1.0, 0.0, 2.0], [1.0, 2.0]), value="v", group="g", baseline="old", comparison="new")
    with pytest.raises(ValueError, match="at least 2"):
        stats.ratio_of_medians_bootstrap(
            frame([1.0], [1.0, 2.0]), value="v", group="g", baseline="old", comparison="new"
        )
    with pytest.raises(ValueError, match="different groups"):
        stats.mann_whitney_hl(df, value="v", group="g", baseline="old", comparison="old")
