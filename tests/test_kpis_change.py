"""The monthly scorecard's change from the previous period's end (wecom_eval.kpis.change)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval.kpis import targets
from wecom_eval.kpis.change import change_from_previous


def test_change_is_now_minus_then_and_not_measured_when_either_is_missing():
    now = [
        {"kpi": "registration", "estimate": 0.64},
        {"kpi": "daily_active", "estimate": None},
        {"kpi": "satisfaction", "estimate": 4.25},
        {"kpi": "pilot_efficiency", "estimate": float("nan")},
    ]
    then = [
        {"kpi": "registration", "estimate": 0.612},
        {"kpi": "daily_active", "estimate": 0.5},
        {"kpi": "satisfaction", "estimate": 4.5},
        {"kpi": "pilot_efficiency", "estimate": 0.2},
    ]
    change = change_from_previous(now, then)
    assert change["registration"] == pytest.approx(0.028)  # 0.640 − 0.612: +2.8 points
    assert change["satisfaction"] == pytest.approx(-0.25)  # 4.25 − 4.50
    assert change["daily_active"] is None and change["pilot_efficiency"] is None  # not measured, never 0
    assert change_from_previous(now, None) == dict.fromkeys(change)  # no previous period


def test_change_on_the_tiny_fixture_worked_by_hand(wh):  # noqa: ANN001
    plan = tiny.plan(1)
    now = pd.DataFrame(targets.adoption_rows(wh, plan, data_through=dt.date(2026, 2, 28)))
    out = targets.with_change(now, wh, plan, since=dt.date(2026, 2, 15))
    change = dict(zip(out["kpi"], out["change"], strict=True))
    # registration on 02-28: 15 of 17 employees (tests/test_kpis_paths.py); on 02-15: E06 not yet
    # hired and E15 gone leave 16 employees, of whom E01–E04, E11–E13 had activated: 7 of 16
    assert change["registration"] == pytest.approx(15 / 17 - 7 / 16)
    assert list(now["estimate"]) == list(out["estimate"])  # the scorecard itself is unchanged
    # before the rollout (starts 02-09) there is nothing to compare with: not measured
    before = targets.with_change(now, wh, plan, since=dt.date(2026, 2, 8))
    assert before["change"].isna().all()
