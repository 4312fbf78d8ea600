"""The best department of the month, ranked on lower confidence bounds (tiny.py, February 2026)."""

from __future__ import annotations

import datetime as dt
from math import sqrt

import pytest
from kpis_tiny_fixture import tiny
from scipy.stats import norm

from wecom_eval import kpis

Z = norm.ppf(0.95)


def _share_se(p: float, n: float) -> float:
    return sqrt(p * (1 - p) / n)


# Components worked out by hand (weights 0.4 / 0.4 / 0.2):
# active rate = mean over February's working days with registered members (see
# test_kpis_activity for each day), n = mean registered members;
# penetration = Σ users / Σ eligible over the features that apply and are measured (have
# events in the 28 days to 02-28: approval and customer; docs and attendance have none, so
# they are not measured, not 0), n = headcount: 销售部 approval 1/6 + customer 1/6 = 2/12,
# 行政部 approval 2/4 (customer does not apply), 华东 approval 2/5 + customer 2/5 = 4/10;
# feedback = (mean overall score − 1) / 4, se = s / √n / 4.
SALES = {
    "active_rate": (173 / 330, 56 / 11),
    "feature_penetration": (2 / 12, 6),
    "feedback": (0.9, sqrt(0.3) / sqrt(5) / 4),
}  # 5,4,5,4,5 → 4.6; s² = 0.3
ADMIN = {"active_rate": (49 / 132, 37 / 11), "feature_penetration": (2 / 4, 4), "feedback": (1.0, 0.0)}  # 5, 5
EAST = {
    "active_rate": (0.27, 4.6),
    "feature_penetration": (4 / 10, 5),
    "feedback": (0.75, sqrt(0.5) / sqrt(5) / 4),
}  # 4,4,3,4,5 → 4.0; s² = 0.5


def _expected(parts: dict) -> tuple[float, float]:
    w = {"active_rate": 0.4, "feature_penetration": 0.4, "feedback": 0.2}
    score = sum(w[k] * v[0] for k, v in parts.items())
    se = sqrt(
        (w["active_rate"] * _share_se(*parts["active_rate"])) ** 2
        + (w["feature_penetration"] * _share_se(*parts["feature_penetration"])) ** 2
        + (w["feedback"] * parts["feedback"][1]) ** 2
    )
    return score, score - Z * se


def test_ranking_on_lower_bounds_with_evidence(wh) -> None:  # noqa: ANN001
    result = kpis.best_department(wh, tiny.plan(1), month="2026-02")
    ranking = result.ranking.set_index("department")
    for name, parts in (("总部/销售部", SALES), ("总部/行政部", ADMIN), ("华东分公司/销售部", EAST)):
        score, low = _expected(parts)
        assert ranking.loc[name, "score"] == pytest.approx(score)
        assert ranking.loc[name, "score_low"] == pytest.approx(low)
    # 行政部 0.548 (low 0.310) beats 销售部 0.456 (low 0.279) and 华东 0.418 (low 0.218)
    ranks = ranking["rank"].dropna().astype(int).to_dict()
    assert ranks == {"总部/行政部": 1, "总部/销售部": 2, "华东分公司/销售部": 3}
    assert not ranking.loc["总部/法务部", "ranked"]
    assert ranking.loc["总部/法务部", "reason"] == "feedback: no data"
    winner = result.winner
    assert winner is not None and winner["department"] == "总部/行政部"
    assert winner["runner_up"] == "总部/销售部" and winner["survey_wave"] == "W1"
    assert winner["margin"] == pytest.approx(_expected(ADMIN)[1] - _expected(SALES)[1])
    assert winner["clear"] is False  # 0.310 does not beat 销售部's score 0.456: a win on the bound only
    evidence = result.evidence.set_index("component")
    assert evidence.loc["feedback", "estimate"] == pytest.approx(1.0) and evidence.loc["feedback", "n"] == 2
    assert evidence["contribution"].sum() == pytest.approx(_expected(ADMIN)[0])
    assert result.weights == {"active_rate": 0.4, "feature_penetration": 0.4, "feedback": 0.2}


def test_a_small_team_cannot_win_on_a_perfect_score(wh) -> None:  # noqa: ANN001
    # 行政部's feedback is a perfect 5, 5 — from two people. At the real floor of 5 it is not ranked,
    # and neither is the department hidden to protect it (ties broken by department order).
    result = kpis.best_department(wh, tiny.plan(5), month="2026-02")
    ranking = result.ranking.set_index("department")
    assert "under the privacy floor" in ranking.loc["总部/行政部", "reason"]
    assert "cannot be worked out" in ranking.loc["总部/销售部", "reason"]
    assert ranking.loc[~ranking["ranked"], ["score", "active_rate", "feedback"]].isna().all().all()
    assert result.winner is not None and result.winner["department"] == "华东分公司/销售部"
    assert "only one department could be ranked this month" in result.notes


def test_components_without_data_are_left_out_not_zero(wh) -> None:  # noqa: ANN001
    # January: no survey wave, no activity row and no feature event in the window. Each component
    # is left out (never a 0 that ranks someone last); with none measured nobody is ranked.
    result = kpis.best_department(wh, tiny.plan(1), month="2026-01")
    assert result.weights == {"active_rate": 0.0, "feature_penetration": 0.0, "feedback": 0.0}
    assert result.winner is None and result.ranking.empty
    assert any("no survey wave" in n for n in result.notes)
    assert any(n.startswith("active_rate: no data this month") for n in result.notes)
    assert any("none of the score's components was measured" in n for n in result.notes)


def test_month_must_be_a_month(wh) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="YYYY-MM"):
        kpis.best_department(wh, tiny.plan(1), month="February")
    assert kpis.best_department(wh, tiny.plan(1), month=dt.date(2026, 2, 17)).month == "2026-02"


def test_ranking_shows_the_standard_error_it_ranks_on(wh) -> None:  # noqa: ANN001
    # Regression: the docstring promised score_se, the ranking dropped it
    result = kpis.best_department(wh, tiny.plan(1), month="2026-02")
    ranking = result.ranking.set_index("department")
    assert list(result.ranking.columns[:3]) == ["department_id", "department", "ranked"]
    assert {"score", "score_se", "score_low", "active_rate_se", "feature_penetration_se", "feedback_se"} <= set(
        result.ranking.columns
    )
    for name, parts in (("总部/销售部", SALES), ("总部/行政部", ADMIN), ("华东分公司/销售部", EAST)):
        score, low = _expected(parts)
        assert ranking.loc[name, "score_se"] == pytest.approx((score - low) / Z)  # se = (score − low) / z
        assert ranking.loc[name, "score_low"] == pytest.approx(
            ranking.loc[name, "score"] - Z * ranking.loc[name, "score_se"]
        )
    assert ranking.loc[~ranking["ranked"], "score_se"].isna().all()  # no figures for the unranked
