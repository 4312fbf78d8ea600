"""stats.event_study: pinned to the same regressions fitted with statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from wecom_eval import stats

GO_LIVE = {0: 3, 1: 3, 2: 5, 3: 5, 4: 7, 5: 7, 6: 9, 7: 9, 8: np.nan, 9: np.nan}


def staggered(
    seed: int,
    *,
    effect_by_e: float = 0.0,
    base_effect: float = np.log(0.7),
    pretrend: float = 0.0,
    per_cell: int = 12,
    weeks: int = 10,
) -> pd.DataFrame:
    """Ten departments going live in weeks 3, 5, 7, 9 (two never), approvals per week."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, g in GO_LIVE.items():
        level = rng.normal(0, 0.3)
        for w in range(1, weeks + 1):
            shock = rng.normal(0, 0.08)
            e = w - g if not np.isnan(g) else -99
            eff = (base_effect + effect_by_e * e) if e >= 0 else 0.0
            trend = pretrend * (w - 1) if not np.isnan(g) and g >= 7 else 0.0
            n = per_cell + int(rng.integers(0, 5))
            logh = 3 + level + 0.02 * w + shock + eff + trend + rng.normal(0, 0.6, n)
            rows += [(d, w, g, h) for h in np.exp(logh)]
    return pd.DataFrame(rows, columns=["dept", "week", "go_live", "hours"])


def test_effects_match_statsmodels_extended_twfe() -> None:
    # Reference: statsmodels OLS of log(hours) on department and week dummies plus one dummy
    # per (go-live cohort, week) cell after go-live (Wooldridge 2021), clustered by
    # department; event-time effects are the cell coefficients averaged with weights equal
    # to their observation counts, and their CR1 standard errors come from the same
    # covariance (w' V w).
    df = staggered(1)
    df["ly"] = np.log(df["hours"])
    treated = df["go_live"].notna() & (df["week"] >= df["go_live"])
    cells = sorted({(int(g), int(w)) for g, w in zip(df.loc[treated, "go_live"], df.loc[treated, "week"], strict=True)})
    names = []
    for g, w in cells:
        name = f"c{g}_{w}"
        df[name] = ((df["go_live"] == g) & (df["week"] == w)).astype(float)
        names.append(name)
    m = smf.ols("ly ~ C(dept) + C(week) + " + " + ".join(names), df).fit(
        cov_type="cluster", cov_kwds={"groups": df["dept"]}, use_t=True
    )
    res = stats.event_study(
        df, outcome="hours", unit="dept", time="week", first_treated="go_live", transform="log", inference="cluster"
    )
    post = res.effects[res.effects["period"] == "post"].set_index("event_time")
    counts = {nm: df[nm].sum() for nm in names}
    for e in post.index:
        sel = [nm for (g, w), nm in zip(cells, names, strict=True) if w - g == e]
        wts = np.array([counts[nm] for nm in sel]) / sum(counts[nm] for nm in sel)
        est = float(wts @ m.params[sel])
        se = float(np.sqrt(wts @ m.cov_params().loc[sel, sel].to_numpy() @ wts))
        assert post.loc[e, "estimate"] == pytest.approx(est, rel=1e-8)
        assert post.loc[e, "std_error"] == pytest.approx(se, rel=1e-7)
    wts = np.array([counts[nm] for nm in names]) / sum(counts.values())
    assert res.estimate == pytest.approx(float(wts @ m.params[names]), rel=1e-8)
    assert res.relative_change == pytest.approx(np.expm1(res.estimate))


def test_pretrend_test_matches_statsmodels_on_untreated_rows() -> None:
    # Borusyak, Jaravel & Spiess (2024) test: on untreated rows only, department and week
    # dummies plus lead dummies for 1..3 weeks before go-live; Wald test with the CR1
    # covariance, F = W / q on (q, G - 1) degrees of freedom.
    df = staggered(2)
    df["ly"] = np.log(df["hours"])
    un = df[~(df["go_live"].notna() & (df["week"] >= df["go_live"]))].copy()
    leads = []
    for e in (-3, -2, -1):
        nm = f"lead{-e}"
        un[nm] = ((un["week"] - un["go_live"]) == e).astype(float)
        leads.append(nm)
    m = smf.ols("ly ~ C(dept) + C(week) + " + " + ".join(leads), un).fit(
        cov_type="cluster", cov_kwds={"groups": un["dept"]}, use_t=True
    )
    b = m.params[leads].to_numpy()
    V = m.cov_params().loc[leads, leads].to_numpy()
    f_ref = float(b @ np.linalg.solve(V, b)) / 3
    res = stats.event_study(
        df,
        outcome="hours",
        unit="dept",
        time="week",
        first_treated="go_live",
        transform="log",
        leads=3,
        inference="cluster",
    )
    assert res.pretrend_df == 3
    assert res.pretrend_stat == pytest.approx(f_ref, rel=1e-7)
    pre = res.effects[res.effects["period"] == "pre"].set_index("event_time")
    for e, nm in zip((-3, -2, -1), leads, strict=True):
        assert pre.loc[e, "estimate"] == pytest.approx(m.params[nm], rel=1e-8)


def test_recovers_growing_effects_where_a_single_dummy_would_not() -> None:
    # Effects grow by 0.08 log points a week after go-live; each event time is recovered.
    df = staggered(3, effect_by_e=-0.08, per_cell=60)
    res = stats.event_study(
        df, outcome="hours", unit="dept", time="week", first_treated="go_live", transform="log", n_boot=999
    )
    post = res.effects[res.effects["period"] == "post"].set_index("event_time")
    for e in range(0, 4):
        assert post.loc[e, "estimate"] == pytest.approx(np.log(0.7) - 0.08 * e, abs=0.12)
        assert post.loc[e, "ci_low"] < np.log(0.7) - 0.08 * e < post.loc[e, "ci_high"]
    assert not res.pretrend_rejects


def test_pretrend_is_flagged() -> None:
    # the flag is the wild bootstrap Wald test (its size holds with few departments, where
    # the CR1 F over-rejects; sim_stats.py), so it needs a clearer drift than the F would
    df = staggered(5, pretrend=-0.3)
    res = stats.event_study(
        df, outcome="hours", unit="dept", time="week", first_treated="go_live", transform="log", n_boot=999
    )
    assert res.pretrend_rejects
    assert any("pre-trend test rejects" in w for w in res.warnings)
    assert res.to_frame()["pretrend_rejects"].all()
    assert res.pretrend_wild_p_value == res.pretrend_p_value <= 0.10
    assert res.pretrend_f_p_value < res.pretrend_p_value  # the F is the more eager of the two


def test_wild_intervals_and_frame() -> None:
    res = stats.event_study(
        staggered(5),
        outcome="hours",
        unit="dept",
        time="week",
        first_treated="go_live",
        transform="log",
        leads=2,
        n_boot=999,
    )
    eff = res.effects
    assert list(eff.columns[:7]) == ["event_time", "period", "estimate", "std_error", "ci_low", "ci_high", "p_value"]
    assert (eff["ci_low"] <= eff["estimate"]).all() and (eff["estimate"] <= eff["ci_high"]).all()
    assert eff["event_time"].min() == -2
    assert res.inference == "wild" and res.n_clusters == 10 and res.n_treated_clusters == 8


def test_periods_with_everyone_live_are_dropped() -> None:
    df = staggered(6)
    df = df[df["go_live"].notna()]  # no never-live departments: week 9+ has no controls
    res = stats.event_study(
        df, outcome="hours", unit="dept", time="week", first_treated="go_live", transform="log", inference="cluster"
    )
    assert any("dropped" in w and "every unit is live" in w for w in res.warnings)
    assert res.effects["event_time"].max() <= 5


def test_misuse() -> None:
    df = staggered(7)
    bad = df.copy()
    bad.loc[bad.index[0], "go_live"] = 4
    with pytest.raises(ValueError, match="same on every row"):
        stats.event_study(bad, outcome="hours", unit="dept", time="week", first_treated="go_live")
    with pytest.raises(ValueError, match="no unit goes live"):
        stats.event_study(df.assign(go_live=np.nan), outcome="hours", unit="dept", time="week", first_treated="go_live")
    with pytest.raises(ValueError, match="whole periods"):
        stats.event_study(
            df.assign(week=df["week"] + 0.5), outcome="hours", unit="dept", time="week", first_treated="go_live"
        )
    with pytest.raises(ValueError, match="first_treated='start' is not a column"):
        stats.event_study(df, outcome="hours", unit="dept", time="week", first_treated="start")
