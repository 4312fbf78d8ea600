"""Daily active and engaged rates on working days and their weekly averages.

Every expected number is worked out by hand from tests/fixtures/kpis/tiny (see tiny.py). The
fixture's week 1 has six working days (Saturday 02-14 is an adjusted working day, 调休),
week 2 is the Spring Festival (no working day), week 3 has five (Monday 02-23 is a holiday,
Saturday 02-28 a working day).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction as F

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis

D = dt.date.fromisoformat
START, END = D("2026-02-09"), D("2026-03-01")


@pytest.fixture(scope="module")
def weekly(wh) -> pd.DataFrame:  # noqa: ANN001
    return kpis.weekly_activity(wh, tiny.plan(1), start=START, end=END, by="department")


def _row(frame: pd.DataFrame, department: str, week: int) -> dict:
    return frame.loc[(frame["department"] == department) & (frame["week"] == week)].iloc[0].to_dict()


def mean(*values: F) -> float:
    return float(sum(values) / len(values))


# ---- by department --------------------------------------------------------------------------


def test_week_with_an_adjusted_working_saturday(weekly: pd.DataFrame) -> None:
    sales = _row(weekly, "总部/销售部", 1)
    assert sales["working_days"] == 6  # Mon 02-09 … Sat 02-14 (调休); Sunday 02-15 is off
    # registered members (WeCom department 销售部): u01, u02, u13 from 02-09, u03 from 02-10,
    # u04 from 02-11; active per working day: 2/3, 2/4, 3/5, 2/5, 3/5, 3/5 (u13 only on the Saturday).
    # u04's active row of 02-10, before it activated, does not count.
    assert sales["active_rate"] == pytest.approx(mean(F(2, 3), F(2, 4), F(3, 5), F(2, 5), F(3, 5), F(3, 5)))
    # engaged (≥ 30 minutes): u01 (45) every day, u03 (60) from 02-10, u13 (exactly 30) on Saturday;
    # u02 (20) never: 1/3, 2/4, 2/5, 2/5, 2/5, 3/5
    assert sales["engaged_rate"] == pytest.approx(mean(F(1, 3), F(2, 4), F(2, 5), F(2, 5), F(2, 5), F(3, 5)))
    assert bool(sales["engaged_measured"])
    assert sales["registered_week"] == 5
    # u01 (also on Sunday), u02, u03, u13
    assert sales["weekly_active_users"] == 4
    assert sales["weekly_active_rate"] == pytest.approx(4 / 5)


def test_leaver_and_shared_account(weekly: pd.DataFrame) -> None:
    admin = _row(weekly, "总部/行政部", 1)
    # u11, u12, shared1 (no employee: counts once activated), u15 until its employee's last day
    # 02-12: 4, 4, 4, 4, 3, 3 registered; active 3, 2, 1, 1, 1, 1 (u15's row of 02-13 is ignored)
    assert admin["active_rate"] == pytest.approx(mean(F(3, 4), F(2, 4), F(1, 4), F(1, 4), F(1, 3), F(1, 3)))
    assert admin["engaged_rate"] == pytest.approx(mean(F(2, 4), F(1, 4), F(1, 4), F(1, 4), F(1, 3), F(1, 3)))
    assert admin["registered_week"] == 4


def test_holiday_week_has_no_rate_but_counts_weekly_users(weekly: pd.DataFrame) -> None:
    sales = _row(weekly, "总部/销售部", 2)
    assert sales["working_days"] == 0
    assert pd.isna(sales["active_rate"]) and pd.isna(sales["engaged_rate"])
    assert pd.isna(sales["engaged_measured"])  # neither measured nor "not measured": no working day
    assert sales["weekly_active_users"] == 1  # u01 used WeCom on the holiday 02-17
    admin = _row(weekly, "总部/行政部", 2)
    assert admin["weekly_active_users"] == 0 and admin["registered_week"] == 3


def test_week_with_a_holiday_monday_and_a_joiner(weekly: pd.DataFrame) -> None:
    sales = _row(weekly, "总部/销售部", 3)
    assert sales["working_days"] == 5  # 02-24 … 02-28 (Saturday 调休); 02-23 and 03-01 off
    # 02-24: 5 registered, u01 and u03 active → 2/5; 02-25 … 02-28: u06 (hired 02-24, activated
    # 02-25) makes 6, active u01, u03, u06 → 3/6
    assert sales["active_rate"] == pytest.approx(mean(F(2, 5), *[F(3, 6)] * 4))
    # u03 uses 25 minutes (< 30): engaged u01 on 02-24, u01 and u06 after
    assert sales["engaged_rate"] == pytest.approx(mean(F(1, 5), *[F(2, 6)] * 4))


def test_missing_minutes_make_the_engaged_rate_not_measured(weekly: pd.DataFrame) -> None:
    east = _row(weekly, "华东分公司/销售部", 3)
    # the api_log source gives activity without minutes: 2/4, 1/4, 1/5, 1/5, 1/5 active
    assert east["active_rate"] == pytest.approx(mean(F(2, 4), F(1, 4), F(1, 5), F(1, 5), F(1, 5)))
    assert pd.isna(east["engaged_rate"])  # not measured — never 0
    assert east["engaged_measured"] == False  # noqa: E712
    assert east["minutes_coverage"] == 0.0
    assert "华东分公司/销售部" in " ".join(weekly.attrs["notes"])


def test_a_department_without_data_is_inactive_and_flagged_by_its_row_count(weekly: pd.DataFrame) -> None:
    legal = _row(weekly, "总部/法务部", 3)
    assert legal["registered_week"] == 2 and legal["member_day_rows"] == 0
    assert legal["active_rate"] == 0.0 and pd.isna(legal["engaged_rate"])


# ---- company-wide and by branch ---------------------------------------------------------------


def test_company_weekly_is_the_mean_of_company_daily_rates(wh) -> None:  # noqa: ANN001
    company = kpis.weekly_activity(wh, tiny.plan(1), start=START, end=END, by="company").set_index("week")
    # week 1: the two departments' daily counts added: 5/7, 4/8, 4/9, 3/9, 4/8, 4/8
    assert company.loc[1, "active_rate"] == pytest.approx(mean(F(5, 7), F(4, 8), F(4, 9), F(3, 9), F(4, 8), F(4, 8)))
    assert company.loc[1, "engaged_rate"] == pytest.approx(mean(F(3, 7), F(3, 8), F(3, 9), F(3, 9), F(3, 8), F(4, 8)))
    # week 3: registered 14, 15, 16, 16, 16; active 5 each day. Engaged among measured members
    # only (华东 and 法务部 have none): 2/8, 3/9, 3/9, 3/9, 3/9
    assert company.loc[3, "active_rate"] == pytest.approx(mean(F(5, 14), F(5, 15), F(5, 16), F(5, 16), F(5, 16)))
    assert company.loc[3, "engaged_rate"] == pytest.approx(mean(F(2, 8), *[F(3, 9)] * 4))
    assert company.loc[3, "minutes_coverage"] == pytest.approx(mean(F(8, 14), F(9, 15), *[F(9, 16)] * 3))
    assert company.loc[3, "weekly_active_users"] == 6 and company.loc[3, "registered_week"] == 16


def test_branch_breakdown(wh) -> None:  # noqa: ANN001
    branch = kpis.weekly_activity(wh, tiny.plan(1), start=START, end=END, by="branch")
    east = branch.loc[(branch["branch"] == "华东分公司") & (branch["week"] == 3)].iloc[0]
    assert east["active_rate"] == pytest.approx(mean(F(2, 4), F(1, 4), F(1, 5), F(1, 5), F(1, 5)))
    assert set(branch["branch"]) == {"总部", "华东分公司"}


def test_daily_rates(wh) -> None:  # noqa: ANN001
    daily = kpis.daily_activity(wh, tiny.plan(1), start=D("2026-02-13"), end=D("2026-02-15"), by="department")
    sales = daily.loc[daily["department"] == "总部/销售部"].set_index("date")
    assert sales.loc[D("2026-02-14"), "is_working"] and not sales.loc[D("2026-02-15"), "is_working"]
    assert (sales.loc[D("2026-02-14"), "active"], sales.loc[D("2026-02-14"), "registered"]) == (3, 5)
    assert sales.loc[D("2026-02-15"), "active"] == 1  # u01 on Sunday: recorded, not in the weekly rate
    assert sales.loc[D("2026-02-14"), "engaged_rate"] == pytest.approx(3 / 5)


def test_privacy_floor_hides_small_departments_and_a_sibling(wh) -> None:  # noqa: ANN001
    out = kpis.weekly_activity(wh, tiny.plan(5), start=START, end=END, by="department")
    week1 = out.loc[out["week"] == 1].set_index("department")
    # week 1: 销售部 (5 registered) and 行政部 (4). 行政部 is under 5, and the company total minus
    # 销售部 would give it away, so 销售部 is hidden too.
    assert week1["suppressed"].all()
    assert week1.loc["总部/行政部", "suppression"] == "small_group"
    assert week1.loc["总部/销售部", "suppression"] == "complementary"
    week3 = out.loc[out["week"] == 3].set_index("department")
    # week 3: 销售部 6, 行政部 3, 法务部 2, 华东 5: the two small ones hide each other (5 together)
    assert set(week3.index[week3["suppressed"]]) == {"总部/行政部", "总部/法务部"}
    assert week3.loc["总部/销售部", "active_rate"] == pytest.approx(mean(F(2, 5), *[F(3, 6)] * 4))


def test_range_starts_on_a_whole_week(wh) -> None:  # noqa: ANN001
    out = kpis.weekly_activity(wh, tiny.plan(1), start=D("2026-02-11"), end=D("2026-02-12"), by="company")
    assert out["week_start"].tolist() == [D("2026-02-09")] and out["week_end"].tolist() == [D("2026-02-12")]
    assert out["working_days"].tolist() == [4]  # 02-09 … 02-12
