"""stats.cronbach_alpha, top2box, compare_waves: hand computation, scipy and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from wecom_eval import stats

ITEMS = pd.DataFrame({"q1": [4, 5, 3, 4, 2, 5], "q2": [4, 4, 3, 5, 2, 5], "q3": [5, 5, 2, 4, 3, 4]})


def test_cronbach_alpha_hand_computation() -> None:
    # By hand: each item has variance 6.8333/5 = 1.3667 (sum 4.1); totals 13, 14, 8, 13, 7,
    # 14 have variance 49.5/5 = 9.9; alpha = 3/2 * (1 - 4.1/9.9) = 29/33 = 0.878788.
    r = stats.cronbach_alpha(ITEMS)
    assert r.estimate == pytest.approx(29 / 33, abs=1e-12)
    assert (r.n, r.k) == (6, 3)


def test_feldt_interval_and_test() -> None:
    # Feldt, Woodruff & Salih (1987) formulas 6-7 with F(n-1, (n-1)(k-1)) quantiles
    # (scipy.stats.f.ppf), as documented for R cocron::cronbach.alpha.CI.
    rng = np.random.default_rng(0)
    true = rng.normal(size=(150, 1))
    items = pd.DataFrame(np.round(3 + true + rng.normal(0, 0.8, (150, 5))), columns=list("abcde"))
    r = stats.cronbach_alpha(items)
    f_hi, f_lo = sps.f.ppf(0.975, 149, 149 * 4), sps.f.ppf(0.025, 149, 149 * 4)
    assert r.ci_low == pytest.approx(1 - (1 - r.estimate) * f_hi, rel=1e-12)
    assert r.ci_high == pytest.approx(1 - (1 - r.estimate) * f_lo, rel=1e-12)
    assert r.p_value < 1e-10


def test_cronbach_alpha_listwise_and_misuse() -> None:
    items = ITEMS.astype(float)
    items.loc[0, "q2"] = np.nan
    r = stats.cronbach_alpha(items)
    assert r.n == 5 and "listwise" in r.warnings[0]
    with pytest.raises(ValueError, match="at least 2 item columns"):
        stats.cronbach_alpha(ITEMS[["q1"]])
    with pytest.raises(ValueError, match="numeric"):
        stats.cronbach_alpha(ITEMS.assign(q3=list("abcdef")))


def test_top2box_matches_statsmodels_wilson() -> None:
    scores = [5, 4, 3, 5, 2, 4, 4, 5, 1, 4] * 7
    r = stats.top2box(scores, null=0.5)
    assert r.estimate == pytest.approx(0.7) and r.successes == 49 and r.n == 70
    # statsmodels proportion_confint(49, 70, method="wilson"); scipy.stats.binomtest
    assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(49, 70, method="wilson"))
    assert r.p_value == pytest.approx(sps.binomtest(49, 70, 0.5).pvalue)
    with pytest.raises(ValueError, match="whole numbers from 1 to 5"):
        stats.top2box([1, 6])


def test_newcombe_difference_matches_published_example() -> None:
    # Newcombe (1998), Interval estimation for the difference between independent
    # proportions, Statistics in Medicine 17:873-890, example (a) 56/70 - 48/80,
    # method 10 (hybrid score): 0.0524 to 0.3339.
    comp = [5] * 56 + [3] * 14
    base = [4] * 48 + [2] * 32
    df = pd.DataFrame({"wave": ["Q2"] * 70 + ["Q1"] * 80, "score": comp + base})
    r = stats.compare_waves(df, baseline="Q1", comparison="Q2", respondent=None)
    assert (round(r.top2_ci_low, 4), round(r.top2_ci_high, 4)) == (0.0524, 0.3339)
    lo, hi = confint_proportions_2indep(56, 70, 48, 80, method="newcomb")
    assert (r.top2_ci_low, r.top2_ci_high) == pytest.approx((lo, hi), abs=1e-12)
    # pooled two-proportion z test: statsmodels proportions_ztest
    assert r.top2_p_value == pytest.approx(proportions_ztest([56, 48], [70, 80])[1])


def test_compare_waves_means_match_scipy_welch() -> None:
    rng = np.random.default_rng(1)
    rows = [("Q1", f"r{i}", "overall", s) for i, s in enumerate(rng.integers(1, 6, 90))]
    rows += [("Q2", f"s{i}", "overall", s) for i, s in enumerate(rng.integers(2, 6, 110))]
    rows += [("Q2", "x", "other", 1)]
    df = pd.DataFrame(rows, columns=["wave", "respondent_id", "item", "score"])
    r = stats.compare_waves(df, baseline="Q1", comparison="Q2", item="overall")
    x1 = df.query("wave == 'Q2' and item == 'overall'")["score"].to_numpy(float)
    x0 = df.query("wave == 'Q1'")["score"].to_numpy(float)
    ref = sps.ttest_ind(x1, x0, equal_var=False)
    assert r.estimate == pytest.approx(x1.mean() - x0.mean())
    assert r.p_value == pytest.approx(ref.pvalue)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(ref.confidence_interval(0.95)))
    assert r.n_comparison == 110 and r.warnings == []


def test_compare_waves_warns_about_a_panel() -> None:
    df = pd.DataFrame(
        {
            "wave": ["Q1"] * 40 + ["Q2"] * 40,
            "respondent_id": [f"r{i}" for i in range(40)] * 2,
            "score": [3, 4] * 20 + [4, 5] * 20,
        }
    )
    r = stats.compare_waves(df, baseline="Q1", comparison="Q2")
    assert any("answered both waves" in w for w in r.warnings)
    with pytest.raises(ValueError, match="wave 'Q3' has no answers"):
        stats.compare_waves(df, baseline="Q3", comparison="Q2")
