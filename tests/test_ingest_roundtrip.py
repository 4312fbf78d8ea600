"""Round trip: the demo organisation exported to real-world files and ingested gives the same tables.

Each table goes out in a different shape a company would send: the roster as GB18030 CSV
with a title row and 年月日 dates, activity as an XLSX with merged title cells and Excel
serial dates plus UTF-16 tab-separated text, surveys as a 问卷星-like workbook and a UTF-8
BOM CSV with Likert labels, legacy approvals as GBK CSV with Chinese status texts, training
as semicolon-separated CSV, tickets as UTF-8 BOM CSV with English headers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from wecom_eval.demo import DemoConfig, generate
from wecom_eval.demo.surveys import pseudonyms
from wecom_eval.home import Home
from wecom_eval.ingest import ingest
from wecom_eval.store.schema import TABLES
from wecom_eval.store.warehouse import open_reader

SALT = "round-trip-salt-0123456789"
EXCEL_DAY0 = dt.date(1899, 12, 30)
STATUS_TEXT = {"approved": "已通过", "rejected": "已驳回", "pending": "审批中", "withdrawn": "已撤回"}
LIKERT_TEXT = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}


def _csv(rows: list[list[object]], sep: str = ",") -> str:
    def cell(v: object) -> str:
        text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in (sep, '"', "\n")) else text

    return "".join(sep.join(cell(v) for v in row) + "\r\n" for row in rows)


def _day(value: object) -> str:
    d = pd.Timestamp(value)
    return f"{d.year}年{d.month}月{d.day}日"


def _clock(value: object) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S")


def _duration(minutes: object) -> object:
    if pd.isna(minutes):
        return "-"
    m = int(minutes)  # type: ignore[call-overload]
    return f"{m // 60}小时{m % 60}分" if m >= 60 else f"{m}分钟"


def export(demo, folder: Path) -> dict[str, list[Path]]:  # noqa: ANN001 - a DemoOrg
    t = demo.tables
    out: dict[str, list[Path]] = {}
    paths = dict(zip(t["departments"]["department_id"], t["departments"]["path"], strict=True))
    parents = dict(zip(t["departments"]["department_id"], t["departments"]["parent_id"], strict=True))

    # roster: GB18030, a title row, 年月日 dates, the department by path with its id and parent id
    e = t["employees"]
    rows: list[list[object]] = [
        ["员工花名册", "", "", "", "", "", "", "", ""],
        ["工号", "姓名", "部门", "部门ID", "上级部门ID", "分公司", "职务", "入职日期", "离职日期"],
    ]
    for r in e.itertuples(index=False):
        rows.append(
            [
                r.employee_id,
                r.name,
                paths[r.department_id],
                r.department_id,
                parents[r.department_id],
                r.branch,
                r.role,
                _day(r.hire_date),
                "" if pd.isna(r.leave_date) else _day(r.leave_date),
            ]
        )
    (folder / "roster.csv").write_bytes(_csv(rows).encode("gb18030"))
    out["roster"] = [folder / "roster.csv"]

    # activity: the first week as XLSX (merged title, serial dates, 2小时5分 durations), the rest as UTF-16 text
    md = demo.member_days_frame().sort_values(["date", "userid"])
    first_week = md["date"] < md["date"].min() + pd.Timedelta(days=7)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "成员活跃度统计"
    ws.merge_cells("A1:E1")
    ws.append(["日期", "账号", "是否活跃", "使用时长", "数据来源"])
    for r in md[first_week].itertuples(index=False):
        ws.append(
            [
                (pd.Timestamp(r.date).date() - EXCEL_DAY0).days,
                r.userid,
                "是" if r.active else "否",
                _duration(r.minutes),
                r.source,
            ]
        )
    wb.save(folder / "activity-week1.xlsx")
    rest = [["Date", "UserID", "Active", "Minutes", "Source"]]
    rest += [
        [
            pd.Timestamp(r.date).strftime("%Y/%m/%d"),
            r.userid,
            "Y" if r.active else "N",
            "" if pd.isna(r.minutes) else int(r.minutes),
            r.source,
        ]
        for r in md[~first_week].itertuples(index=False)
    ]
    (folder / "activity-rest.txt").write_bytes(_csv(rest, sep="\t").encode("utf-16"))
    out["activity"] = [folder / "activity-week1.xlsx", folder / "activity-rest.txt"]

    # surveys: one file per wave, respondents by userid (ingest pseudonymises them again)
    userid_of = dict(zip(pseudonyms(t["members"]["userid"].to_numpy(), SALT), t["members"]["userid"], strict=True))
    out["survey"] = []
    for n, (wave, resp) in enumerate(t["survey_responses"].groupby("wave", sort=True)):
        items = t["survey_items"][t["survey_items"]["wave"] == wave].pivot(
            index="respondent_id", columns="item", values="score"
        )
        choices = t["survey_choices"][t["survey_choices"]["wave"] == wave]
        texts = t["survey_text"][t["survey_text"]["wave"] == wave]
        questions = sorted(choices["question"].unique())
        text_questions = sorted(texts["question"].unique())
        header = (
            ["答卷编号", "批次", "提交时间", "部门", *items.columns]
            + [f"{q}（多选）" for q in questions]
            + list(text_questions)
        )
        rows = [header]
        for r in resp.itertuples(index=False):
            row: list[object] = [
                userid_of[r.respondent_id],
                wave,
                pd.Timestamp(r.submitted_on).strftime("%Y/%m/%d"),
                paths[r.department_id],
            ]
            for item in items.columns:
                score = items.loc[r.respondent_id, item] if r.respondent_id in items.index else pd.NA
                row.append("" if pd.isna(score) else (LIKERT_TEXT[int(score)] if item == "overall" else int(score)))
            mine = choices[choices["respondent_id"] == r.respondent_id]
            row += ["┋".join(mine[mine["question"] == q]["choice"]) for q in questions]
            said = texts[texts["respondent_id"] == r.respondent_id]
            row += ["".join(said[said["question"] == q]["text"]) for q in text_questions]
            rows.append(row)
        if n % 2 == 0:
            wb = openpyxl.Workbook()
            for row in rows:
                wb.active.append([None if v == "" else v for v in row])
            path = folder / f"survey-{wave}.xlsx"
            wb.save(path)
        else:
            path = folder / f"survey-{wave}.csv"
            path.write_bytes(b"\xef\xbb\xbf" + _csv(rows).encode("utf-8"))
        out["survey"].append(path)

    # legacy approvals: GBK, Chinese status texts, department by path
    p = t["process_records"][t["process_records"]["system"] == "legacy"]
    rows = [["审批编号", "申请人账号", "申请部门", "提交时间", "完成时间", "审批状态"]]
    rows += [
        [
            r.record_id,
            "" if pd.isna(r.userid) else r.userid,
            paths[r.department_id],
            _clock(r.started_at),
            _clock(r.finished_at),
            STATUS_TEXT[r.status],
        ]
        for r in p.itertuples(index=False)
    ]
    (folder / "legacy.csv").write_bytes(_csv(rows).encode("gbk"))
    out["legacy-approvals"] = [folder / "legacy.csv"]

    tr = t["training_attendance"]
    rows = [["场次", "培训日期", "账号"]] + [[r.session_id, _day(r.date), r.userid] for r in tr.itertuples(index=False)]
    (folder / "training.csv").write_text(_csv(rows, sep=";"), encoding="utf-8")
    out["training"] = [folder / "training.csv"]

    tk = t["tickets"]
    rows = [["Ticket ID", "Created", "First Response", "Resolved", "Category"]]
    rows += [
        [
            r.ticket_id,
            pd.Timestamp(r.created_at).isoformat(),
            ""
            if pd.isna(r.first_response_at)
            else pd.Timestamp(r.first_response_at).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            _clock(r.resolved_at),
            r.category,
        ]
        for r in tk.itertuples(index=False)
    ]
    (folder / "tickets.csv").write_bytes(b"\xef\xbb\xbf" + _csv(rows).encode("utf-8"))
    out["tickets"] = [folder / "tickets.csv"]
    return out


def canonical(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A table as plain comparable values, sorted by its key."""
    spec = TABLES[table]
    out = pd.DataFrame(index=range(len(frame)))
    for c in spec.columns:
        if c.omittable:  # columns the demo does not state (employees.mobile, members.activation_basis)
            continue
        values = frame[c.name].reset_index(drop=True)
        if c.kind == "timestamp":
            out[c.name] = [None if pd.isna(v) else pd.Timestamp(v).tz_convert("UTC").isoformat() for v in values]
        elif c.kind == "date":
            out[c.name] = [None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in values]
        elif c.kind in ("int", "bool"):
            out[c.name] = [None if pd.isna(v) else int(v) for v in values]
        else:
            out[c.name] = [None if pd.isna(v) else str(v) for v in values]
    return out.sort_values(list(spec.key), ignore_index=True)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    mp = pytest.MonkeyPatch()
    mp.setenv("WECOM_EVAL_SALT", SALT)  # the demo and ingest then share the salt
    try:
        from wecom_eval.plan import load_plan

        plan = load_plan(Path(__file__).resolve().parents[1] / "params" / "rollout.yaml")
        demo = generate(DemoConfig(employees=150, baseline_weeks=2, rollout_weeks=5), plan)
        folder = tmp_path_factory.mktemp("export")
        files = export(demo, folder)
        home = Home.from_env(tmp_path_factory.mktemp("home"))
        for kind in ("roster", "activity", "survey", "legacy-approvals", "training", "tickets"):
            ingest(kind, files[kind], home=home, plan=plan)
    finally:
        mp.undo()
    with open_reader(home) as wh:
        loaded = {name: wh.frame(name) for name in TABLES}
    return demo, loaded


@pytest.mark.parametrize(
    "table",
    [
        "employees",
        "member_days",
        "survey_responses",
        "survey_items",
        "survey_choices",
        "survey_text",
        "training_attendance",
        "tickets",
    ],
)
def test_round_trip_gives_the_same_table(round_trip, table: str):  # noqa: ANN001
    demo, loaded = round_trip
    expected = demo.member_days_frame() if table == "member_days" else demo.tables[table]
    assert len(loaded[table]) == len(expected) > 0
    pd.testing.assert_frame_equal(canonical(table, loaded[table]), canonical(table, expected))


def test_round_trip_gives_the_legacy_process_records(round_trip):  # noqa: ANN001
    demo, loaded = round_trip
    records = demo.tables["process_records"]
    expected = records[records["system"] == "legacy"]
    assert len(expected) > 0
    pd.testing.assert_frame_equal(
        canonical("process_records", loaded["process_records"]), canonical("process_records", expected)
    )


def test_round_trip_gives_the_departments_below_the_company_root(round_trip):  # noqa: ANN001
    demo, loaded = round_trip
    # A roster names departments relative to the company (总部/行政部), so the root itself
    # (示例集团) is not in it, and the top-level units it creates have no parent.
    expected = demo.tables["departments"]
    expected = expected[expected["parent_id"].notna()].copy()
    expected.loc[expected["path"].str.count("/") == 0, "parent_id"] = pd.NA
    pd.testing.assert_frame_equal(canonical("departments", loaded["departments"]), canonical("departments", expected))
    assert np.array_equal(np.sort(loaded["departments"]["department_id"]), np.arange(2, 2 + len(expected)))
