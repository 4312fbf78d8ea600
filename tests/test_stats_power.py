"""stats.did_power and variance_components."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wecom_eval import stats
from wecom_eval.stats.power import ri_t_statistics


def test_simulated_statistic_is_the_one_did_computes() -> None:
    # Build approval-level data with exactly m_g approvals per department-week, run did()
    # with randomization inference, and compare with the closed form the power simulation
    # uses (CR1 t of the 2x2 DiD from each department's before-after change).
    rng = np.random.default_rng(0)
    G, weeks_pre, weeks_post = 9, 3, 3
    m = np.array([4, 6, 8, 5, 7, 9, 3, 6, 5])
    rows = []
    for g in range(G):
        for w in range(weeks_pre + weeks_post):
            y = rng.normal(rng.normal(0, 0.2), 0.8, m[g])
            rows += [(g, int(w >= weeks_pre), int(g < 3), v) for v in y]
    df = pd.DataFrame(rows, columns=["dept", "post", "pilot", "y"])
    r = stats.did(df, outcome="y", treated="pilot", post="post", cluster="dept", inference="randomization")
    means = df.groupby(["dept", "post"])["y"].mean().unstack()
    delta = (means[1] - means[0]).to_numpy()[None, :]
    from itertools import combinations

    A = np.array([[1.0 if g in c else 0.0 for g in range(G)] for c in combinations(range(G), 3)])
    n = len(df)
    t = ri_t_statistics(delta, m.astype(float), A, G / (G - 1) * (n - 1) / (n - 4))[0]
    actual = int(np.flatnonzero(((np.arange(G) < 3) == A).all(axis=1))[0])
    assert t[actual] == pytest.approx(r.estimate / r.std_error, rel=1e-9)
    assert r.p_value == pytest.approx(np.mean(np.abs(t) >= abs(t[actual]) * (1 - 1e-10)))


def test_power_is_alpha_without_effect_and_grows_with_it() -> None:
    pw = stats.did_power(
        n_departments=12, n_treated=3, staff=25, approvals_per_staff_week=2, weeks_pre=4, weeks_post=4, n_sim=600
    )
    curve = pw.curve.set_index("effect")["power"]
    assert curve.loc[0.0] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 600)
    assert curve.is_monotonic_increasing
    assert pw.inference == "randomization_sized"  # what did() picks for this design
    assert pw.ci_low <= pw.estimate <= pw.ci_high
    # the minimum detectable effect is where the curve crosses 80 %
    below = curve[curve.index < pw.mde - 0.03]
    above = curve[curve.index > pw.mde + 0.03]
    assert (below < 0.8).all() and (above >= 0.8).all()


def test_more_noise_means_a_larger_mde() -> None:
    kw = dict(n_departments=12, n_treated=3, staff=25, approvals_per_staff_week=2, weeks_pre=4, weeks_post=4, n_sim=300)
    quiet = stats.did_power(sigma_department_week=0.05, **kw)  # type: ignore[arg-type]
    noisy = stats.did_power(sigma_department_week=0.3, **kw)  # type: ignore[arg-type]
    assert quiet.mde < noisy.mde


def test_one_pilot_department_warns() -> None:
    pw = stats.did_power(
        n_departments=12, n_treated=1, staff=25, approvals_per_staff_week=2, weeks_pre=4, weeks_post=4, n_sim=200
    )
    assert pw.inference == "cluster" and "optimistic" in pw.warnings[0]


def test_variance_components_recovers_the_simulated_sds() -> None:
    rng = np.random.default_rng(1)
    D, W, n = 30, 12, 40
    d = np.repeat(np.arange(D), W * n)
    w = np.tile(np.repeat(np.arange(W), n), D)
    log_h = (
        3
        + rng.normal(0, 0.4, D)[d]
        + rng.normal(0, 0.1, W)[w]
        + rng.normal(0, 0.2, (D, W))[d, w]
        + rng.normal(0, 0.9, d.size)
    )
    df = pd.DataFrame({"dept": d, "week": w, "hours": np.exp(log_h)})
    vc = stats.variance_components(df, outcome="hours", department="dept", week="week")
    assert vc.sigma_within == pytest.approx(0.9, abs=0.02)
    assert vc.sigma_department_week == pytest.approx(0.2, abs=0.04)
    assert vc.sigma_department == pytest.approx(0.4, abs=0.15)
    pw = stats.did_power(
        n_departments=12,
        n_treated=3,
        staff=20,
        approvals_per_staff_week=2,
        weeks_pre=4,
        weeks_post=4,
        components=vc,
        n_sim=200,
    )
    assert 0 < pw.mde < 1


def test_misuse() -> None:
    kw = dict(n_departments=12, staff=25, approvals_per_staff_week=2, weeks_pre=4, weeks_post=4)
    with pytest.raises(ValueError, match="must be below n_departments"):
        stats.did_power(n_treated=12, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="relative reduction"):
        stats.did_power(n_treated=3, effect=30, **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one per department"):
        stats.did_power(n_treated=3, **{**kw, "staff": [10, 20]})  # type: ignore[arg-type]


def test_shock_variance_by_hand() -> None:
    from wecom_eval.stats.power import shock_variance

    # one week before, one after: Var(x2 - x1) = 2 sigma^2 (1 - rho)
    assert shock_variance(1, 1, 0.3, 0.6) == pytest.approx(2 * 0.09 * 0.4)
    # measured semivariogram gamma_1 = 0.05: Var(x2 - x1) = 2 gamma_1 whatever the AR(1) says
    assert shock_variance(1, 1, 0.3, 0.6, [0.05]) == pytest.approx(0.1)
    # two and two, independent: sigma^2 (1/2 + 1/2)
    assert shock_variance(2, 2, 0.3, 0.0) == pytest.approx(0.09)


def test_variance_components_measure_persistence() -> None:
    from wecom_eval.stats._simulate import ar1

    rng = np.random.default_rng(4)
    G, W, m = 300, 8, 40
    e = ar1(rng, (G, W), 0.3, 0.7)
    d = np.repeat(np.arange(G), W * m)
    w = np.tile(np.repeat(np.arange(W), m), G)
    df = pd.DataFrame(
        {"dept": d, "week": w, "hours": np.exp(3 + rng.normal(0, 0.4, G)[d] + e[d, w] + rng.normal(0, 0.9, d.size))}
    )
    vc = stats.variance_components(df, outcome="hours", department="dept", week="week")
    assert vc.rho == pytest.approx(0.7, abs=0.08) and vc.sigma_ar == pytest.approx(0.3, abs=0.04)
    # the semivariogram at lag k is sigma^2 (1 - rho^k)
    assert vc.semivariogram[0] == pytest.approx(0.09 * 0.3, abs=0.006)


def test_probability_of_met_at_the_target_is_at_most_alpha() -> None:
    pw = stats.did_power(
        n_departments=12,
        n_treated=3,
        staff=25,
        approvals_per_staff_week=2,
        weeks_pre=4,
        weeks_post=4,
        n_sim=1000,
        max_weeks=20,
    )
    met = pw.met.set_index("gain")
    # a true gain equal to the 30 % target is called met at most 5 % of the time (+ 3 MC SEs)
    assert met.loc[0.3, "p_met"] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 1000)
    assert math.isnan(met.loc[0.3, "weeks_for_target_power"])  # never 80 %
    assert met.loc[0.4, "p_met"] < met.loc[0.5, "p_met"]
    weeks = met.loc[0.5, "weeks_for_target_power"]
    assert 1 <= weeks <= 20 or math.isnan(weeks)
