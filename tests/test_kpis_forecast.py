"""Deadline forecasts: the Bass curve, the naive baseline, the interval score, the simulation and the warehouse path."""

from __future__ import annotations

import datetime as dt
import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import solve_ivp

from wecom_eval import text
from wecom_eval.kpis import forecast as fc
from wecom_eval.kpis import forecast_model as fm
from wecom_eval.reporting import forecasts, kpis_json


def test_bass_share_solves_the_bass_equation():
    # Reference: Bass (1969), dF/dt = (p + q F)(1 − F), F(0) = 0, integrated numerically by scipy;
    # the closed form has speed c = p + q and Q = q / p.
    p, q = 0.03, 0.38
    times = np.array([1.0, 5.0, 10.0, 20.0, 40.0])
    ode = solve_ivp(lambda t, f: (p + q * f) * (1 - f), (0, 40), [0.0], t_eval=times, rtol=1e-10, atol=1e-12)
    closed = fm.bass_share(times, np.array(p + q), q=q / p)
    np.testing.assert_allclose(closed, ode.y[0], atol=1e-7)


def test_interval_score_by_hand():
    # Gneiting & Raftery (2007) eq. 43 with alpha = 0.2: width + 10 × distance outside.
    assert fm.interval_score(0.5, 0.7, 0.6) == pytest.approx(0.2)
    assert fm.interval_score(0.5, 0.7, 0.45) == pytest.approx(0.2 + 10 * 0.05)
    assert fm.interval_score(0.5, 0.7, 0.73) == pytest.approx(0.2 + 10 * 0.03)


def test_naive_extends_the_last_two_weeks_with_the_drift_interval():
    # changes 0.2, 0.1: slope 0.1 a week, 2 weeks on → 0.6; sd of the changes 0.0707 (ddof 1);
    # half width 1.2816 × 0.0707 × √(2 × (1 + 2/3)) = 0.1655 (FPP3 §5.2 drift interval).
    point, low, high = fm.naive([0.1, 0.3, 0.4], weeks_ahead=2)
    assert point == pytest.approx(0.6)
    half = 1.2815516 * math.sqrt(0.005) * math.sqrt(2 * (1 + 2 / 3))
    assert (low, high) == (pytest.approx(0.6 - half), pytest.approx(0.6 + half))
    # one change (0.4) is its own sigma: 0.9 + 3 × 0.4 = 2.1 ± 1.2816 × 0.4 × √(3 × 2.5) → clipped to [0, 1]
    assert fm.naive([0.5, 0.9], weeks_ahead=3) == (1.0, pytest.approx(2.1 - 1.2815516 * 0.4 * math.sqrt(7.5)), 1.0)
    with pytest.raises(ValueError, match="needs 2 weekly figures"):
        fm.naive([0.4], weeks_ahead=1)


def _one_department(values: list[float], n: float = 5000.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    days = [7 * (i + 1) for i in range(len(values))]
    history = pd.DataFrame({"unit": 1, "day": days, "value": values, "n": n})
    return history, pd.DataFrame({"unit": [1], "go_live_day": [1], "weight": [n]})


def test_a_finished_curve_is_projected_where_it_is():
    history, units = _one_department([0.90, 0.97, 0.98, 0.98])
    proj = fm.project(history, units, kpi="registration", last_day=28, until_day=60, seed=1)
    at = proj.company[:, np.searchsorted(proj.days, 30)]
    assert np.median(at) == pytest.approx(0.98, abs=0.01)
    assert at.min() >= 0.98 - 1e-12  # registration is cumulative: never below today's figure


def test_the_company_is_the_weighted_mean_of_its_departments():
    history = pd.DataFrame(
        {"unit": [1, 1, 2, 2], "day": [7, 14, 7, 14], "value": [0.5, 0.9, 0.1, 0.2], "n": [100.0, 100.0, 300.0, 300.0]}
    )
    units = pd.DataFrame({"unit": [1, 2], "go_live_day": [1, 1], "weight": [100.0, 300.0]})
    proj = fm.project(history, units, kpi="registration", last_day=14, until_day=40, draws=500, seed=3)
    np.testing.assert_allclose(proj.company, 0.25 * proj.units[1] + 0.75 * proj.units[2])


def test_a_department_not_live_yet_takes_the_company_wide_curve():
    # Department 1 live from day 1 and nearly done; department 2 goes live on day 22 and has only
    # its early adopters: it is projected to climb by day 60, with a wide interval.
    history = pd.DataFrame(
        {
            "unit": [1, 1, 2, 2],
            "day": [7, 14, 7, 14],
            "value": [0.6, 0.95, 0.02, 0.02],
            "n": [200.0, 200.0, 200.0, 200.0],
        }
    )
    units = pd.DataFrame({"unit": [1, 2], "go_live_day": [1, 22], "weight": [200.0, 200.0]})
    proj = fm.project(history, units, kpi="registration", last_day=14, until_day=80, seed=4)
    late = proj.units[2][:, np.searchsorted(proj.days, 60)]
    assert np.median(late) > 0.8
    assert np.quantile(late, 0.9) - np.quantile(late, 0.1) > 0.05
    before = proj.units[2][:, np.searchsorted(proj.days, 21)]
    assert np.median(before) == pytest.approx(0.02, abs=0.02)  # nothing happens before go-live


def test_working_days_only_move_the_curve():
    history, units = _one_department([0.2, 0.5])
    working = np.ones(60, dtype=bool)
    working[14:28] = False  # two weeks off right after the last figure
    proj = fm.project(history, units, kpi="registration", last_day=14, until_day=60, working=working, seed=5)
    assert np.median(proj.company[:, np.searchsorted(proj.days, 28)]) == pytest.approx(0.5, abs=0.02)


def test_summarise_reads_the_reach_day_and_what_it_takes():
    days = np.arange(15, 41)
    path = np.tile(np.linspace(0.5, 1.0, len(days)), (10, 1))  # reaches 0.9 at index 20 = day 35
    out = fm.summarise(path, days, deadline_day=30, last_day=14, now=0.5, target=0.9)
    assert out["reach_day"] == 35
    assert out["needed_per_week"] == pytest.approx(0.4 / (16 / 7))  # 0.4 missing, 16 days left
    assert out["pi_low"] == out["pi_high"] == out["at_deadline"] == pytest.approx(path[0, 15])
    done = fm.summarise(path, days, deadline_day=30, last_day=14, now=0.95, target=0.9)
    assert done["reach_day"] == 14 and done["needed_per_week"] == 0.0


# ---- from the warehouse ----------------------------------------------------------------------


def test_a_forecast_needs_two_weeks_of_data(wh, plan):
    frame = fc.forecast(wh, plan, as_of=plan.start_date + dt.timedelta(days=8), draws=200)
    assert frame["reason"].notna().all()
    assert frame["reason"].str.contains("too little data").all()
    found = fc.target_forecasts(frame)
    assert set(found) == set(fm.TARGETS)
    assert all(v["forecast"] is None and "too little data" in v["reason"] for v in found.values())


def test_no_forecast_once_the_deadline_has_passed(wh, plan):
    as_of = plan.deadline(plan.targets.registration.deadline_day) + dt.timedelta(days=2)
    found = fc.target_forecasts(fc.forecast(wh, plan, as_of=as_of, draws=200))
    assert found["registration"]["forecast"] is None
    assert "has passed" in found["registration"]["reason"]


def test_a_chinese_report_says_why_there_is_no_forecast_in_chinese(wh, plan):
    as_of = plan.deadline(plan.targets.registration.deadline_day) + dt.timedelta(days=2)
    frame = fc.forecast(wh, plan, as_of=as_of, draws=200)
    registration = frame.loc[frame["target_id"] == "registration"].iloc[0].to_dict()
    zh = forecasts.reason_text(SimpleNamespace(language="zh"), registration)  # type: ignore[arg-type]
    assert zh.startswith("截止日") and "已过" in zh and not re.search("[A-Za-z]", zh)
    early = fc.forecast(wh, plan, as_of=plan.start_date + dt.timedelta(days=8), draws=200).iloc[0].to_dict()
    assert (
        forecasts.reason_text(SimpleNamespace(language="zh"), early)
        == f"数据不足：目前只有{early['weeks']}周的数据，预测至少需要{fm.MIN_WEEKS}周"
    )
    assert forecasts.reason_text(SimpleNamespace(language="en"), early) == early["reason"]


def test_forecasts_follow_the_kpis_json_schema():
    frame = pd.DataFrame(
        [
            {
                "target_id": "registration",
                "feature": None,
                "department_id": None,
                "at_deadline": 0.9,
                "pi_low": 0.85,
                "pi_high": 0.95,
                "level": 0.8,
                "reach_date": dt.date(2026, 4, 2),
                "needed_per_week": 0.05,
                "reason": None,
            },
            {
                "target_id": "feature_penetration",
                "feature": "docs",
                "department_id": None,
                "at_deadline": 0.7,
                "pi_low": 0.6,
                "pi_high": 0.8,
                "level": 0.8,
                "reach_date": None,
                "needed_per_week": 0.02,
                "reason": None,
            },
            {
                "target_id": "feature_penetration",
                "feature": "approval",
                "department_id": None,
                "at_deadline": 0.6,
                "pi_low": 0.5,
                "pi_high": 0.7,
                "level": 0.8,
                "reach_date": None,
                "needed_per_week": 0.03,
                "reason": None,
            },
        ]
    )
    found = fc.target_forecasts(frame)
    assert found["feature_penetration"]["forecast"]["feature"] == "approval"  # the weakest feature
    assert found["registration"]["forecast"]["reach_date"] == "2026-04-02"
    assert found["daily_active"] == {"forecast": None, "reason": "no data"}
    base = {
        "label": "x",
        "group": None,
        "unit": "share",
        "estimate": 0.5,
        "ci_low": None,
        "ci_high": None,
        "confidence": None,
        "target": 1.0,
        "deadline": "2026-03-31",
        "verdict": "not_yet_shown",
        "n": 10,
        "method": None,
        "note": None,
    }
    targets = {
        t: {**base, "id": t, "forecast": found[t]["forecast"], "forecast_note": found[t]["reason"]} for t in fm.TARGETS
    }
    targets.update({t: {**base, "id": t} for t in ("satisfaction", "pilot_efficiency")})
    document = kpis_json.build(
        {
            "report": "weekly",
            "as_of": "2026-03-23",
            "language": "zh",
            "period": {"start": "2026-03-16", "end": "2026-03-22", "complete": True, "label": "w3"},
            "targets": targets,
        }
    )
    assert kpis_json.problems(document) == []
    document["targets"]["registration"]["forecast"]["pi_high"] = 1.2
    assert any("pi_high" in p for p in kpis_json.problems(document))


def test_a_department_going_live_after_the_deadline_stays_where_it_is():
    history = pd.DataFrame(
        {
            "unit": [1, 1, 2, 2],
            "day": [7, 14, 7, 14],
            "value": [0.5, 0.9, 0.03, 0.04],
            "n": [100.0, 100.0, 100.0, 100.0],
        }
    )
    units = pd.DataFrame({"unit": [1, 2], "go_live_day": [1, 36], "weight": [100.0, 100.0]})
    proj = fm.project(
        history, units, kpi="registration", last_day=14, until_day=30, working=np.ones(36, bool), seed=6
    )  # the horizon ends before department 2 goes live: its clock still reaches day 36
    assert np.median(proj.units[2][:, -1]) == pytest.approx(0.04, abs=0.01)


def test_a_report_with_no_forecast_yet_says_why_for_each_target(wh, plan):
    frame = fc.forecast(wh, plan, as_of=plan.start_date + dt.timedelta(days=8), draws=200)
    assert "weight" not in frame  # no forecast was made: no simulated column at all
    report = SimpleNamespace(language="zh")
    shown = forecasts.table(report, frame)
    assert list(shown["kpi"])[:2] == ["注册率", "日活跃率（达到时长要求）"]
    assert shown["kpi"].iloc[2].startswith("核心功能渗透率（")  # names the weakest feature it shows
    # the reason is said in the report's language
    assert shown["at_deadline"].isna().all() and shown["note"].str.startswith("数据不足：").all()
    assert forecasts.sentences(report, frame).count("暂无预测") == 3


def test_without_a_projection_the_penetration_row_shows_its_weakest_feature_now(wh, plan):
    # Past the deadline nothing is projected; the row must still describe the weakest feature,
    # as the scorecard's verdict does, not whichever feature comes first.
    frame = fc.forecast(wh, plan, as_of=plan.start_date + dt.timedelta(days=8), draws=200)
    pen = frame.index[(frame["target_id"] == "feature_penetration") & frame["department_id"].isna()]
    assert len(pen) >= 2
    frame.loc[pen, "now"] = [0.9] + [0.754] * (len(pen) - 2) + [0.738]
    weakest = frame.loc[pen[-1], "feature"]
    shown = forecasts.table(SimpleNamespace(language="zh"), frame).set_index("kpi")
    label = f"核心功能渗透率（{text.lookup('features', weakest, 'zh')}）"
    assert shown.loc[label, "now"] == 0.738 and pd.isna(shown.loc[label, "at_deadline"])
