"""Target paths and the DESIGN §6 verdicts, on the hand-built organisation (tiny.py)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny
from scipy.stats import binom
from statsmodels.stats.proportion import proportion_confint

from wecom_eval import kpis
from wecom_eval.kpis.paths import path_deadline
from wecom_eval.kpis.verdicts import judge

D = dt.date.fromisoformat


def smoothstep(x: float) -> float:
    return 3 * x**2 - 2 * x**3


# ---- the path ---------------------------------------------------------------------------------


def test_path_shapes() -> None:
    assert kpis.path_share(15, 30) == 0.5 and kpis.path_share(15, 30, shape="linear") == 0.5
    assert kpis.path_share(7, 28) == pytest.approx(3 / 16 - 2 / 64)  # x = 1/4: 3x² − 2x³
    assert kpis.path_share(7, 28, shape="linear") == 0.25
    assert kpis.path_share(0, 28) == 0.0 and kpis.path_share(99, 28) == 1.0
    with pytest.raises(ValueError, match="shape"):
        kpis.path_share(1, 2, shape="cubic")  # type: ignore[arg-type]


def test_path_counts_days_from_the_first_day_included() -> None:
    plan = tiny.plan()  # start 02-09; registration 1.0 by day 14, active 0.6 by day 21
    assert kpis.path_value(plan, "registration", D("2026-02-15")) == pytest.approx(0.5)  # day 7 of 14
    assert kpis.path_value(plan, "registration", D("2026-02-22")) == 1.0  # day 14: the deadline
    assert kpis.path_value(plan, "registration", D("2026-02-08")) == 0.0  # before the start
    assert kpis.path_value(plan, "active_rate", D("2026-02-28")) == pytest.approx(0.6 * smoothstep(20 / 21))
    assert path_deadline(plan, "active_rate") == D("2026-03-01")
    # a department live from 02-23 gets the same 14 days from there
    assert kpis.path_value(plan, "registration", D("2026-02-28"), first_day=D("2026-02-23")) == pytest.approx(
        smoothstep(6 / 14)
    )
    frame = kpis.target_path(plan, "feature_penetration", start=D("2026-02-09"), end=D("2026-03-10"))
    assert frame["path"].iloc[-1] == 0.8 and frame["deadline"].iloc[0] == D("2026-03-08")
    assert frame["path"].is_monotonic_increasing


def test_judge_census_and_sample() -> None:
    census = judge(successes=15, n=17, value=1.0, census=True)
    assert (census["verdict"], census["ci_low"], census["ci_high"]) == ("missed", 15 / 17, 15 / 17)
    assert judge(successes=10, n=10, value=1.0, census=True)["verdict"] == "met"
    sample = judge(successes=640, n=1000, value=0.6, census=False)
    lo, hi = proportion_confint(640, 1000, alpha=0.10, method="wilson")  # one-sided 95 % bounds
    assert (sample["ci_low"], sample["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert sample["verdict"] == "met"
    assert judge(successes=0, n=0, value=0.6, census=False)["verdict"] is None


# ---- progress against path and target ---------------------------------------------------------------------------


def test_company_progress(wh) -> None:  # noqa: ANN001
    card = kpis.progress(wh, tiny.plan(1), data_through=D("2026-02-28"), by="company")
    rows = {(r["kpi"], r["feature"] if isinstance(r["feature"], str) else None): r for r in card.to_dict("records")}
    reg = rows[("registration", None)]
    # 15 of 17 registered; the deadline (02-22) has passed, the path is at 100 %: missed, exactly
    assert reg["estimate"] == pytest.approx(15 / 17) and reg["n"] == 17
    assert reg["ci_low"] == reg["ci_high"] == reg["estimate"] and reg["method"] == "census count"
    assert (reg["path_value"], reg["path_verdict"], reg["verdict"]) == (1.0, "missed", "missed")
    assert reg["days_to_deadline"] == -6

    active = rows[("active_rate", None)]
    # week 3 to date: mean of 5/14, 5/15, 5/16 ×3; n = 15 (15.4 registered a day, rounded);
    # 5 successes (0.3256 × 15.4 = 5.01)
    assert active["estimate"] == pytest.approx((5 / 14 + 5 / 15 + 3 * 5 / 16) / 5) and active["n"] == 15
    # the weekly confidence sequence: the tiny plan foresees 4 weekly looks, so week 3 spends
    # alpha_3 = 0.05 / (4 + 1) = 0.01 on each side (a two-sided 98 % exact interval)
    assert active["look"] == 3 and active["verdict_basis"] == "confidence_sequence:spending"
    lo, hi = proportion_confint(5, 15, alpha=0.02, method="beta")
    assert (active["ci_low"], active["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert active["path_value"] == pytest.approx(0.6 * smoothstep(20 / 21))
    # a one-off 90 % interval would call it behind (upper bound 0.55 < path 0.596), but the
    # sequence's upper bound (0.66) still reaches the path: the exact one-sided p
    # P(Binomial(15, 0.596) <= 5) = 0.0363 becomes 0.0363 / (1/5) = 0.182 anytime;
    # the deadline is tomorrow, so the final target is not missed yet
    assert active["path_p_value"] == pytest.approx(5 * binom.cdf(5, 15, active["path_value"]))
    assert 0.18 < active["path_p_value"] < 0.19
    assert active["path_verdict"] == "not_yet_shown" and active["verdict"] == "not_yet_shown"

    engaged = rows[("engaged_rate", None)]
    assert engaged["estimate"] == pytest.approx(19 / 60) and engaged["n"] == 9  # 8.8 measured a day

    approval = rows[("feature_penetration", "approval")]
    assert (approval["estimate"], approval["n"]) == (pytest.approx(5 / 17), 17)
    assert approval["path_value"] == pytest.approx(0.8 * smoothstep(20 / 28))


def test_department_paths_start_at_go_live(wh) -> None:  # noqa: ANN001
    card = kpis.progress(wh, tiny.plan(1), data_through=D("2026-02-28"), by="department")
    reg = card.loc[card["kpi"] == "registration"].set_index("department")
    assert reg.loc["总部/销售部", "path_start"] == D("2026-02-09")  # the pilot
    assert reg.loc["总部/行政部", "path_start"] == D("2026-02-23")  # week 3
    assert reg.loc["总部/行政部", "path_value"] == pytest.approx(smoothstep(6 / 14))
    assert reg.loc["总部/行政部", "path_verdict"] == "met"  # 3 of 4 = 75 % against 39 %
    assert reg.loc["总部/销售部", "path_verdict"] == "missed"  # 5 of 6 against 100 %
    engaged = card.loc[card["kpi"] == "engaged_rate"].set_index("department")
    assert pd.isna(engaged.loc["华东分公司/销售部", "estimate"])
    assert "not measured" in engaged.loc["华东分公司/销售部", "note"]
    customer = card.loc[(card["kpi"] == "feature_penetration") & (card["feature"] == "customer")]
    assert customer.set_index("department").loc["总部/行政部", "note"] == "no eligible staff"
    flat = kpis.progress(wh, tiny.plan(1), data_through=D("2026-02-28"), by="department", align="start")
    assert set(flat["path_start"]) == {D("2026-02-09")}


def test_before_go_live_there_is_no_path_verdict(wh) -> None:  # noqa: ANN001
    card = kpis.progress(wh, tiny.plan(1), data_through=D("2026-02-20"), by="department")
    reg = card.loc[card["kpi"] == "registration"].set_index("department")
    assert pd.isna(reg.loc["总部/行政部", "path_verdict"])
    assert "not live yet" in reg.loc["总部/行政部", "note"]


def test_hidden_departments_keep_a_row_without_figures(wh) -> None:  # noqa: ANN001
    card = kpis.progress(wh, tiny.plan(5), data_through=D("2026-02-28"), by="department")
    legal = card.loc[card["department"] == "总部/法务部"].set_index(["kpi", "feature"])
    assert legal["estimate"].isna().all() and legal["verdict"].isna().all()
    # every row but customer management, which does not apply there (it describes nobody)
    assert legal["note"].str.startswith("hidden").sum() == len(legal) - 1
    assert legal.loc[("feature_penetration", "customer"), "note"] == "no eligible staff"


def test_holm_verdicts_by_hand() -> None:
    from wecom_eval.kpis.verdicts import holm_verdicts

    # four claims: p = 0.01, 0.02, 0.04 and a row with no test (registration, a census).
    # Holm at 0.05: sorted 0.01 x 3 = 0.03, 0.02 x 2 = 0.04, 0.04 x 1 = 0.04 (monotone):
    # all three survive; with p = 0.03 instead of 0.02 the adjusted values are 0.03,
    # 0.06, 0.06 and only the first claim stays.
    frame = pd.DataFrame(
        {
            "verdict": ["met", "missed", "met", "missed"],
            "pg": [0.01, 0.99, 0.04, float("nan")],
            "pl": [0.99, 0.02, 0.96, float("nan")],
        }
    )
    adjusted, verdicts = holm_verdicts(frame, verdict="verdict", p_greater="pg", p_less="pl")
    assert adjusted.iloc[:3].tolist() == pytest.approx([0.03, 0.04, 0.04])
    assert verdicts.tolist() == ["met", "missed", "met", "missed"]
    frame.loc[1, "pl"] = 0.03
    adjusted, verdicts = holm_verdicts(frame, verdict="verdict", p_greater="pg", p_less="pl")
    assert adjusted.iloc[:3].tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert verdicts.tolist() == ["met", "not_yet_shown", "not_yet_shown", "missed"]
