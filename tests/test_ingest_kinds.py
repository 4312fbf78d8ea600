"""How rows of each kind map to canonical tables (the parts the fixture corpus does not pin)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import KINDS, ingest
from wecom_eval.store.schema import TABLES
from wecom_eval.store.warehouse import open_reader

REPO = Path(__file__).resolve().parents[1]


def _load(home: Home, tmp_path: Path, kind: str, text: str, **kwargs: object) -> pd.DataFrame:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    ingest(kind, [path], home=home, **kwargs)  # type: ignore[arg-type]
    with open_reader(home) as wh:
        return wh.frame(KINDS[kind].tables[0])


def test_every_kind_names_real_tables_fields_and_an_existing_example():
    for spec in KINDS.values():
        assert set(spec.tables) <= set(TABLES)
        assert (REPO / spec.example).is_file()
        for group in spec.one_of:
            assert set(group) <= set(spec.field_names)


def test_activity_without_a_yes_no_column_is_active_when_used(home: Home, tmp_path: Path):
    days = _load(home, tmp_path, "activity", "日期,账号,使用时长\n2026-03-02,a,0\n2026-03-02,b,12\n")
    by = {u: (a, m) for u, a, m in days[["userid", "active", "minutes"]].itertuples(index=False)}
    assert by == {"a": (False, 0), "b": (True, 12)}


def test_an_activity_row_with_neither_yes_no_nor_minutes_is_refused(home: Home, tmp_path: Path):
    with pytest.raises(InputError) as err:
        _load(home, tmp_path, "activity", "日期,账号,使用时长\n2026-03-02,a,\n")
    assert "row 2, column 使用时长" in str(err.value)


def test_training_without_a_session_id_names_it_by_course_and_day(home: Home, tmp_path: Path):
    rows = _load(home, tmp_path, "training", "课程名称,日期,账号\n入门,2026/3/17,a\n入门,2026/3/24,a\n")
    assert sorted(rows["session_id"]) == ["入门 2026-03-17", "入门 2026-03-24"]


def test_tickets_with_durations_instead_of_times(home: Home, tmp_path: Path):
    rows = _load(
        home,
        tmp_path,
        "tickets",
        "工单号,创建时间,响应时长,解决时长,分类\nT1,2026-03-02 09:00,15分钟,2小时,账号\nT2,2026-03-02 10:00,,,其他\n",
    )
    t1 = rows.set_index("ticket_id").loc["T1"]
    tz = "Asia/Shanghai"
    assert t1["first_response_at"] == pd.Timestamp("2026-03-02 09:15", tz=tz)
    assert t1["resolved_at"] == pd.Timestamp("2026-03-02 11:00", tz=tz)  # counted from creation
    assert rows.set_index("ticket_id").loc["T2"].isna()["resolved_at"]


def test_legacy_approvals_by_department_id_and_a_process_column(home: Home, tmp_path: Path):
    rows = _load(
        home,
        tmp_path,
        "legacy-approvals",
        "单号,部门ID,流程类别,提交时间,完成时间,状态\n"
        "X1,7,customer_followup,2026-01-05 09:00,2026-01-05 12:00,已完成\n",
    )
    assert rows.iloc[0][["department_id", "process", "status", "system"]].tolist() == [
        7,
        "customer_followup",
        "approved",
        "legacy",
    ]


def test_roster_member_columns_need_the_account(home: Home, tmp_path: Path):
    with pytest.raises(InputError) as err:
        _load(home, tmp_path, "roster", "工号,姓名,部门,入职日期,激活状态\nE1,甲,总部/行政部,2020-01-01,已激活\n")
    assert "a 账号 (userid) column beside the account status" in str(err.value)


def test_roster_rows_without_an_account_load_employees_only(home: Home, tmp_path: Path):
    _load(
        home,
        tmp_path,
        "roster",
        "工号,姓名,部门,入职日期,账号,激活状态\nE1,甲,总部/行政部,2020-01-01,jia,已激活\n"
        "E2,乙,总部/行政部,2020-01-01,,\n",
    )
    with open_reader(home) as wh:
        assert wh.count("employees") == 2 and wh.count("members") == 1


def test_wave_is_for_surveys_only(home: Home, tmp_path: Path):
    with pytest.raises(InputError) as err:
        _load(home, tmp_path, "training", "场次,日期,账号\nS,2026-03-17,a\n", wave="w1")
    assert "--wave names a survey wave" in str(err.value)


def test_an_account_column_without_a_status_is_named_as_unused(home: Home, tmp_path: Path):
    path = tmp_path / "roster.csv"
    path.write_text("工号,姓名,部门,入职日期,账号\nE1,甲,总部/行政部,2020-01-01,jia\n", encoding="utf-8")
    report = ingest("roster", [path], home=home)
    assert "column 账号 not used: members are loaded only with a 激活状态" in str(report)
    assert "members" not in report.results
