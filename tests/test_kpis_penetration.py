"""Feature penetration over a trailing window among eligible employees.

Expected numbers are worked out by hand from tests/fixtures/kpis/tiny (see tiny.py). The
fixture plan's window is 7 days and ``customer`` applies to departments named 销售部.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from kpis_tiny_fixture import tiny

from wecom_eval import kpis
from wecom_eval.plan import FeatureScope

D = dt.date.fromisoformat


def _cells(frame: pd.DataFrame, key: str) -> dict:
    return {(r[key], r["feature"]): (r["eligible"], r["users"]) for r in frame.to_dict("records")}


def test_company_penetration_per_feature(wh) -> None:  # noqa: ANN001
    out = kpis.feature_penetration(wh, tiny.plan(1), data_through=D("2026-02-28"), by="company").set_index("feature")
    # window 02-22 … 02-28. approval: E01 (A3), E11 (A4, A5), E13 (A6, through u13 whose WeCom
    # department differs), E31 (A7 at 2026-02-28T15:30Z = 23:30 in Shanghai), E32 (A9 at
    # 2026-02-21T16:30Z = 02-22 00:30 in Shanghai); not E03 (02-10), not shared1 (no employee),
    # not A8 (2026-02-21T15:30Z = 02-21 23:30). Eligible: the 17 on the roster.
    assert (out.loc["approval", "eligible"], out.loc["approval", "users"]) == (17, 5)
    assert out.loc["approval", "penetration"] == pytest.approx(5 / 17)
    # customer: only the two 销售部 departments (6 + 5); users E01, E31, E34 — u11's C4 is in
    # 行政部, where customer management does not apply
    assert (out.loc["customer", "eligible"], out.loc["customer", "users"]) == (11, 3)
    # the fixture has no docs or attendance events at all: no source for them, so not
    # measured (null), never 0 % — while approval and customer are measured
    assert out.loc[["docs", "attendance"], ["users", "penetration"]].isna().all().all()
    assert out.loc["docs", "eligible"] == 17


def test_by_department_and_not_applicable(wh) -> None:  # noqa: ANN001
    out = kpis.feature_penetration(wh, tiny.plan(1), data_through=D("2026-02-28"), by="department")
    cells = _cells(out, "department")
    assert cells[("总部/销售部", "approval")] == (6, 1)
    assert cells[("总部/行政部", "approval")] == (4, 2)
    assert cells[("华东分公司/销售部", "approval")] == (5, 2)
    assert cells[("华东分公司/销售部", "customer")] == (5, 2)
    admin = out.loc[(out["department"] == "总部/行政部") & (out["feature"] == "customer")].iloc[0]
    assert admin["eligible"] == 0 and not admin["applies"] and pd.isna(admin["penetration"])


def test_window_moves_with_the_day(wh) -> None:  # noqa: ANN001
    out = kpis.feature_penetration(
        wh, tiny.plan(1), data_through=[D("2026-02-21"), D("2026-02-28")], by="company", features=["approval"]
    )
    got = dict(zip(out["data_through"], zip(out["eligible"], out["users"], strict=True), strict=True))
    # 02-15 … 02-21: only A8 (02-21 23:30 local, E31); 16 on the roster (E06 not yet hired)
    assert got[D("2026-02-21")] == (16, 1)
    assert got[D("2026-02-28")] == (17, 5)


def test_feature_with_no_eligible_staff_is_undefined_not_zero(wh) -> None:  # noqa: ANN001
    plan = tiny.plan(1)
    plan = plan.model_copy(update={"features": {"customer": FeatureScope(department_names=["市场部"])}})
    out = kpis.feature_penetration(wh, plan, data_through=D("2026-02-28"), by="company").set_index("feature")
    assert out.loc["customer", "eligible"] == 0
    assert pd.isna(out.loc["customer", "penetration"])
    assert any("No eligible staff for customer" in n for n in out.attrs["notes"])


def test_trend_by_week(wh) -> None:  # noqa: ANN001
    out = kpis.penetration_trend(
        wh, tiny.plan(1), start=D("2026-02-09"), end=D("2026-02-28"), by="company", features=["approval"]
    )
    # week ends 02-15 (window 02-09 … 02-15: E03's A1 and A2 → 1 of 16), 02-22 (A8, A9 → 2 of 16),
    # and the as-of day 02-28 (5 of 17)
    assert out["week"].tolist() == [1, 2, 3]
    assert out["users"].tolist() == [1, 2, 5] and out["eligible"].tolist() == [16, 16, 17]


def test_small_departments_are_hidden_per_feature(wh) -> None:  # noqa: ANN001
    out = kpis.feature_penetration(wh, tiny.plan(5), data_through=D("2026-02-28"), by="department")
    approval = out.loc[out["feature"] == "approval"].set_index("department")
    assert set(approval.index[approval["suppressed"]]) == {"总部/行政部", "总部/法务部"}
    customer = out.loc[out["feature"] == "customer"].set_index("department")
    # customer: only 销售部 (6) and 华东 (5) have eligible staff; the others describe nobody
    assert not customer["suppressed"].any()


def test_unknown_feature_is_refused(wh) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="features"):
        kpis.feature_penetration(wh, tiny.plan(1), data_through=D("2026-02-28"), features=["chat"])


@pytest.mark.parametrize("window", [1, 3, 20])
def test_several_days_at_once_equal_each_day_alone(wh, window: int) -> None:  # noqa: ANN001
    # one query reads every as-of day (each use is credited to every window holding it); it
    # must agree with asking day by day, whether the windows overlap (20) or leave gaps (1, 3)
    days = [D("2026-02-12"), D("2026-02-21"), D("2026-02-22"), D("2026-02-26"), D("2026-02-28")]
    together = kpis.feature_penetration(wh, tiny.plan(1), data_through=days, by="department", window_days=window)
    alone = pd.concat(
        [kpis.feature_penetration(wh, tiny.plan(1), data_through=d, by="department", window_days=window) for d in days],
        ignore_index=True,
    )
    cols = ["department_id", "feature", "data_through", "eligible", "users"]
    pd.testing.assert_frame_equal(
        together[cols].sort_values(cols, ignore_index=True), alone[cols].sort_values(cols, ignore_index=True)
    )
    company = kpis.feature_penetration(wh, tiny.plan(1), data_through=days, by="company", window_days=window)
    approval = company.loc[company["feature"] == "approval"].set_index("data_through")["users"].to_dict()
    if window == 1:
        # A8 (02-21 23:30 in Shanghai) is E31's on 02-21; A9 (02-22 00:30) E32's on 02-22;
        # A7 (02-28 23:30) E31's on 02-28; A4 on 02-26 is E11's
        assert [approval[d] for d in days] == [0, 1, 1, 1, 1]
    if window == 20:
        # 02-09 … 02-28: E03 (A1, A2), E01, E11, E13, E31, E32
        assert approval[D("2026-02-28")] == 6
