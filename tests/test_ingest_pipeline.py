"""The ingest pipeline on the committed fixture corpus: good files load as they say, bad ones change nothing."""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from wecom_eval.cli import main
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import derived_id, ingest, pseudonymise
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.warehouse import open_reader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ingest"
GOOD, BAD = FIXTURES / "good", FIXTURES / "bad"
SALT = "test-salt-0123456789abcdef"


@pytest.fixture(autouse=True)
def _salt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECOM_EVAL_SALT", SALT)


def frame(home: Home, table: str) -> pd.DataFrame:
    with open_reader(home) as wh:
        return wh.frame(table)


def snapshot(home: Home) -> dict[str, object]:
    """Everything a load could change: every table, the load log, the raw landing."""
    with open_reader(home) as wh:
        tables = {name: wh.frame(name) for name in LOAD_ORDER}
        tables["_loads"] = wh.query("SELECT table_name, source, received FROM _loads ORDER BY loaded_at")
    raw = sorted(str(p.relative_to(home.raw)) for p in home.raw.rglob("*")) if home.raw.exists() else []
    return {"tables": tables, "raw": raw}


def assert_same(before: dict[str, object], after: dict[str, object]) -> None:
    assert before["raw"] == after["raw"]
    for name, table in before["tables"].items():  # type: ignore[union-attr]
        pd.testing.assert_frame_equal(table, after["tables"][name], obj=name)  # type: ignore[index]


def by(table: pd.DataFrame, column: str) -> dict[object, dict[str, object]]:
    return {row[column]: row for row in table.to_dict("records")}


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Asia/Shanghai")


# ---- the good corpus -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """One warehouse with every good fixture loaded, in the order a company would load them."""
    home = Home.from_env(tmp_path_factory.mktemp("good"))
    mp = pytest.MonkeyPatch()
    mp.setenv("WECOM_EVAL_SALT", SALT)
    try:
        ingest("roster", [GOOD / "roster_gb18030_title.csv"], home=home)
        ingest("activity", [GOOD / "activity_serial_dates.xlsx", GOOD / "activity_utf16.txt"], home=home)
        ingest("tickets", [GOOD / "tickets_utf8bom_en.csv"], home=home)
        ingest("survey", [GOOD / "survey_wjx.xlsx"], home=home, wave="2026-Q1")
        ingest("legacy-approvals", [GOOD / "legacy_oa_gbk.csv", GOOD / "legacy_custom_headers.csv"], home=home)
        ingest("training", [GOOD / "training_semicolon.csv"], home=home)
    finally:
        mp.undo()
    return home


def test_gb18030_roster_with_title_row_loads_what_the_file_says(loaded: Home):
    employees = by(frame(loaded, "employees"), "employee_id")
    assert len(employees) == 8  # the title, blank and note lines are not employees
    assert employees["E1002"]["name"] == "王㛃"  # only GB18030 (not GBK) encodes this character
    assert employees["E1001"]["hire_date"] == pd.Timestamp("2018-04-02")  # 2018年4月2日
    assert employees["E1002"]["hire_date"] == pd.Timestamp("2021-07-19")  # 2021/7/19
    assert employees["E1004"]["hire_date"] == pd.Timestamp("2023-02-13")  # 20230213
    assert employees["E1006"]["leave_date"] == pd.Timestamp("2026-03-20")
    assert employees["E1003"]["role"] == '=HYPERLINK("http://example.com","经理")'  # formula-looking: kept as text
    assert employees["E1001"]["branch"] == "总部" and employees["E1007"]["branch"] == "华东分公司"
    departments = by(frame(loaded, "departments"), "path")
    # 总部／行政部 (full-width slash) and 总部/行政部 are one department; ancestors are created too
    assert set(departments) == {
        "总部",
        "总部/行政部",
        "总部/销售部",
        "华东分公司",
        "华东分公司/销售部",
        "华东分公司/客户服务部",
    }
    assert employees["E1001"]["department_id"] == employees["E1002"]["department_id"] == derived_id("总部/行政部")
    assert departments["总部/行政部"]["parent_id"] == derived_id("总部")
    # the plan pilots 总部/行政部 and 总部/销售部 (go live in week 1 = 2026-03-02); others in week 3
    assert departments["总部/销售部"]["is_pilot"] and not departments["华东分公司/销售部"]["is_pilot"]
    assert departments["总部/销售部"]["go_live_date"] == pd.Timestamp("2026-03-02")
    assert departments["华东分公司/销售部"]["go_live_date"] == pd.Timestamp("2026-03-16")
    members = by(frame(loaded, "members"), "userid")
    assert {u: m["status"] for u, m in members.items()} == {
        "zhangwei": 1,
        "wangjie": 1,
        "lina": 1,
        "liuyang": 4,
        "chenjing": 1,
        "yanglei": 5,
        "zhaomin": 1,
        "huangqiang": 2,
    }
    assert members["wangjie"]["activated_at"] == ts("2026-03-03 10:02")  # 2026年3月3日 10:02
    assert pd.isna(members["liuyang"]["activated_at"])


def test_xlsx_with_serial_dates_and_utf16_export_load_what_the_files_say(loaded: Home):
    days = frame(loaded, "member_days")
    got = {
        (r["date"].date().isoformat(), r["userid"]): (r["active"], None if pd.isna(r["minutes"]) else r["minutes"])
        for r in days.to_dict("records")
    }
    assert got == {
        # XLSX: Excel serial 46083 = 2026-03-02, 46084 = 2026-03-03 (also typed as text), a real date cell
        ("2026-03-02", "zhangwei"): (True, 150),  # 2小时30分
        ("2026-03-02", "wangjie"): (False, None),  # "-"
        ("2026-03-02", "lina"): (True, 150),  # 150分钟
        ("2026-03-02", "chenjing"): (True, 90),  # 1:30
        ("2026-03-03", "zhangwei"): (True, 45),
        ("2026-03-03", "wangjie"): (True, 75),  # a time-formatted cell (1:15:00)
        ("2026-03-03", "lina"): (False, 0),
        ("2026-03-03", "chenjing"): (True, 20),
        ("2026-03-04", "zhangwei"): (True, 61),
        # UTF-16 tab-separated, English headers
        ("2026-03-05", "zhangwei"): (True, 30),
        ("2026-03-05", "lina"): (False, 0),
        ("2026-03-06", "chenjing"): (True, 150),  # 2h30m
    }
    assert set(days["source"]) == {"admin_export"}


def test_utf8_bom_tickets_with_english_headers_keep_formula_looking_text(loaded: Home):
    tickets = by(frame(loaded, "tickets"), "ticket_id")
    assert tickets["IT-1001"]["created_at"] == ts("2026-03-02 09:40")
    assert tickets["IT-1002"]["created_at"] == ts("2026-03-03 14:15")  # 06:15Z is 14:15 in Shanghai
    assert tickets["IT-1003"]["resolved_at"] == ts("2026-03-04 10:40")  # "Mar 4, 2026 10:40"
    assert pd.isna(tickets["IT-1004"]["first_response_at"])
    assert [tickets[t]["category"] for t in ("IT-1002", "IT-1003", "IT-1004", "IT-1005")] == [
        "=1+2",
        "@SUM(A1:A2)",
        "+86 hotline",
        "-cmd",
    ]


def test_survey_with_likert_labels_and_multi_select_loads_tidy_rows(loaded: Home):
    r = {n: pseudonymise(str(n), SALT) for n in range(1, 6)}
    responses = by(frame(loaded, "survey_responses"), "respondent_id")
    assert set(responses) == set(r.values())  # raw ids 1…5 never reach the warehouse
    assert responses[r[1]]["wave"] == "2026-Q1"
    assert responses[r[3]]["submitted_on"] == pd.Timestamp("2026-03-28")
    assert responses[r[1]]["department_id"] == derived_id("总部/行政部")
    items = frame(loaded, "survey_items")
    scores = {
        (row["respondent_id"], row["item"]): (None if pd.isna(row["score"]) else row["score"])
        for row in items.to_dict("records")
    }
    overall, efficient = "您对企业微信的整体满意度", "企业微信让我的工作更高效"  # numbering 1、2、 dropped
    assert [scores[(r[n], overall)] for n in range(1, 6)] == [5, 4, 3, 2, 1]  # 非常满意 … 非常不满意
    # 同意, 非常同意, 不同意, blank (a skipped item), 非常不同意
    assert [scores[(r[n], efficient)] for n in range(1, 6)] == [4, 5, 2, None, 1]
    choices = frame(loaded, "survey_choices")
    picked = {(row["respondent_id"], row["question"], row["choice"]) for row in choices.to_dict("records")}
    used, wanted = "您最常用的功能是？", "您最希望优化的流程"
    assert {c for (rid, q, c) in picked if rid == r[1] and q == used} == {"审批", "文档协作", "考勤打卡"}
    assert {c for (rid, q, c) in picked if rid == r[4] and q == used} == {"文档协作", "其他"}
    assert {c for (rid, q, c) in picked if rid == r[1] and q == wanted} == {"报销审批", "请假审批"}  # split on 、
    assert {c for (rid, q, c) in picked if rid == r[3] and q == wanted} == {"采购审批", "合同审批"}  # split on ，
    assert len(choices) == 15
    text = {
        (row["respondent_id"], row["question"]): row["text"] for row in frame(loaded, "survey_text").to_dict("records")
    }
    assert text == {
        (r[1], "您的建议"): "希望审批能在手机上完成",
        (r[3], "您的建议"): "登录有时很慢",
        (r[5], "您的建议"): "=不要这样",
        (r[4], "您最常用的功能是？（其他）"): "日程会议",
    }
    # survey-tool metadata (所用时间, 来源, 来自IP) is not a question
    assert not {"所用时间", "来源", "来自IP"} & set(items["item"]) & set(text)


def test_legacy_oa_exports_load_as_legacy_process_records(loaded: Home):
    records = by(frame(loaded, "process_records"), "record_id")
    assert {k: v["status"] for k, v in records.items()} == {
        "LG-0001": "approved",
        "LG-0002": "approved",
        "LG-0003": "rejected",
        "LG-0004": "pending",
        "LG-0005": "withdrawn",
        # the custom export, read through params/mappings/example-oa.yaml (归档/退回/流转中)
        "REQ-9001": "approved",
        "REQ-9002": "rejected",
        "REQ-9003": "pending",
    }
    assert {v["system"] for v in records.values()} == {"legacy"}
    assert {v["process"] for v in records.values()} == {"approval"}
    assert records["LG-0001"]["started_at"] == ts("2025-11-03 09:30")  # 2025年11月3日 9:30
    assert records["LG-0001"]["finished_at"] == ts("2025-11-04 17:05")
    assert pd.isna(records["LG-0004"]["finished_at"])
    assert records["LG-0004"]["department_id"] == derived_id("华东分公司/客户服务部")  # by its unique name 客户服务部
    assert pd.isna(records["LG-0003"]["userid"])
    assert records["REQ-9001"]["userid"] == "zhangwei"


def test_semicolon_training_sheet_loads(loaded: Home):
    rows = frame(loaded, "training_attendance")
    assert sorted(map(tuple, rows[["session_id", "userid"]].to_numpy())) == [
        ("TR-01", "wangjie"),
        ("TR-01", "zhangwei"),
        ("TR-02", "chenjing"),
        ("TR-02", "lina"),
    ]
    assert set(rows["date"]) == {pd.Timestamp("2026-03-17"), pd.Timestamp("2026-03-19")}


def test_the_original_files_are_kept_byte_for_byte(loaded: Home):
    landed = {p.name.split("-", 1)[1]: p for p in loaded.raw.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
    for name in ("roster_gb18030_title.csv", "activity_serial_dates.xlsx", "survey_wjx.xlsx"):
        assert filecmp.cmp(landed[name], GOOD / name, shallow=False)


# ---- idempotency and newer exports -------------------------------------------------------------


def _roster(home: Home) -> None:
    ingest("roster", [GOOD / "roster_gb18030_title.csv"], home=home)


def test_ingesting_the_same_file_again_changes_nothing(home: Home):
    _roster(home)
    first = ingest("activity", [GOOD / "activity_utf16.txt"], home=home)
    assert first.results["member_days"].inserted == 3
    before = frame(home, "member_days")
    again = ingest("activity", [GOOD / "activity_utf16.txt"], home=home)
    r = again.results["member_days"]
    assert (r.inserted, r.updated, r.unchanged) == (0, 0, 3)
    assert "nothing changed" in str(again) and "already kept" in str(again)
    pd.testing.assert_frame_equal(before, frame(home, "member_days"))


def test_a_newer_export_supersedes_by_key_and_counts_changed_rows(home: Home, tmp_path: Path):
    _roster(home)
    old = tmp_path / "week.csv"
    old.write_text(
        "日期,账号,是否活跃,使用时长(分钟)\n2026-03-02,zhangwei,是,30\n2026-03-02,lina,否,0\n2026-03-03,lina,是,10\n",
        encoding="utf-8",
    )
    ingest("activity", [old], home=home)
    new = tmp_path / "week-reexported.csv"
    new.write_text(
        "日期,账号,是否活跃,使用时长(分钟)\n2026-03-02,zhangwei,是,35\n2026-03-02,lina,否,0\n"
        "2026-03-03,lina,是,12\n2026-03-03,zhangwei,是,50\n",
        encoding="utf-8",
    )
    report = ingest("activity", [new], home=home)
    r = report.results["member_days"]
    assert (r.received, r.inserted, r.updated, r.unchanged) == (4, 1, 2, 1)
    assert "1 new, 2 changed, 1 unchanged" in str(report)
    minutes = {
        (d.date().isoformat(), u): m
        for d, u, m in frame(home, "member_days")[["date", "userid", "minutes"]].itertuples(index=False)
    }
    assert minutes == {
        ("2026-03-02", "zhangwei"): 35,
        ("2026-03-02", "lina"): 0,
        ("2026-03-03", "lina"): 12,
        ("2026-03-03", "zhangwei"): 50,
    }


def test_dry_run_writes_nothing(home: Home):
    report = ingest("roster", [GOOD / "roster_gb18030_title.csv"], home=home, dry_run=True)
    assert "nothing written" in str(report) and "employees 8 rows" in str(report)
    assert not home.warehouse.exists() and not home.raw.exists()


def test_two_files_that_disagree_on_a_key_are_both_refused(home: Home, tmp_path: Path):
    _roster(home)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("日期,账号,是否活跃\n2026-03-02,lina,是\n", encoding="utf-8")
    b.write_text("日期,账号,是否活跃\n2026-03-02,lina,否\n", encoding="utf-8")
    before = snapshot(home)
    with pytest.raises(InputError) as err:
        ingest("activity", [a, b], home=home)
    assert f"{a} row 2; {b} row 2" in str(err.value) and "across the files" in str(err.value)
    assert_same(before, snapshot(home))


def test_a_failed_first_ingest_leaves_no_warehouse_behind(home: Home):
    with pytest.raises(InputError):
        ingest("roster", [BAD / "roster_no_department.csv"], home=home)
    assert not home.warehouse.exists()


def test_every_file_is_checked_before_any_is_loaded(home: Home, tmp_path: Path):
    _roster(home)
    good = GOOD / "activity_utf16.txt"
    before = snapshot(home)
    with pytest.raises(InputError) as err:
        ingest("activity", [good, BAD / "date_out_of_window.csv", BAD / "conflicting_duplicate_keys.csv"], home=home)
    message = str(err.value)
    assert "date_out_of_window.csv, row 3" in message and "conflicting_duplicate_keys.csv, rows 2, 4" in message
    assert_same(before, snapshot(home))


# ---- the bad corpus through the command line ---------------------------------------------------


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the good roster and activity, copied into each bad-input test."""
    home = Home.from_env(tmp_path_factory.mktemp("base"))
    ingest("roster", [GOOD / "roster_gb18030_title.csv"], home=home)
    ingest("activity", [GOOD / "activity_utf16.txt"], home=home)
    return home.root


BAD_CASES = [
    # (kind, file, extra args, fragments the message must contain)
    (
        "activity",
        "missing_required_column.csv",
        [],
        [
            "header on line 1",
            "no column for userid",
            "Headers found: 日期, 成员, 是否活跃, 使用时长(分钟)",
            "Closest aliases: 成员账号",
        ],
    ),
    (
        "roster",
        "unknown_status_text.csv",
        [],
        ["unknown_status_text.csv, row 3, column 激活状态: got '已冻结'", "已激活, 未激活, 已禁用 or 已退出"],
    ),
    (
        "survey",
        "likert_6.csv",
        ["--wave", "2026-Q2"],
        ["likert_6.csv, row 3, column Q2 易用性: got '6'", "a score 1–5"],
    ),
    (
        "activity",
        "conflicting_duplicate_keys.csv",
        [],
        ["conflicting_duplicate_keys.csv, rows 2, 4", "date=2026-03-02, userid=zhangwei", "one set of values per key"],
    ),
    (
        "legacy-approvals",
        "finish_before_start.csv",
        [],
        ["finish_before_start.csv, row 3, column 完成时间 (finished_at)", "a time not before started_at"],
    ),
    ("roster", "empty.csv", [], ["empty.csv: got 'an empty file (0 data bytes)'"]),
    ("activity", "truncated.xlsx", [], ["truncated.xlsx", "a complete XLSX workbook", "cut short"]),
    (
        "roster",
        "roster_no_department.csv",
        [],
        ["roster_no_department.csv, row 3, column 部门: got None", "expected a department"],
    ),
    (
        "activity",
        "date_out_of_window.csv",
        [],
        ["date_out_of_window.csv, row 3, column 日期: got '2062-03-02'", "a date from 2023-03-02 to "],
    ),
]


@pytest.mark.parametrize(("kind", "name", "extra", "fragments"), BAD_CASES, ids=[c[1] for c in BAD_CASES])
def test_bad_input_exits_2_with_its_message_and_changes_nothing(
    kind: str,
    name: str,
    extra: list[str],
    fragments: list[str],
    base: Path,
    home: Home,
    capsys: pytest.CaptureFixture[str],
):
    shutil.copytree(base / "data", home.data)
    before = snapshot(home)
    code = main(["ingest", kind, str(BAD / name), *extra])
    out = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out.err
    assert "nothing was changed" in out.err
    for fragment in fragments:
        assert fragment in out.err
    assert out.err.count("\n  - ") == 1  # one message for the one problem each file has
    assert_same(before, snapshot(home))


def test_survey_without_salt_is_refused_with_exit_2(
    home: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv("WECOM_EVAL_SALT")
    code = main(["ingest", "survey", str(GOOD / "survey_wjx.xlsx"), "--wave", "2026-Q1"])
    err = capsys.readouterr().err
    assert code == 2 and "environment variable WECOM_EVAL_SALT: got 'unset'" in err
    assert not home.warehouse.exists()


def test_the_fixture_script_reproduces_the_committed_files(tmp_path: Path):
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_fixtures
    finally:
        sys.path.remove(str(FIXTURES))
    written = make_fixtures.build(tmp_path)
    committed = sorted(
        p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    )
    assert [p.relative_to(tmp_path) for p in written] == [p.relative_to(FIXTURES) for p in committed]
    for new, old in zip(written, committed, strict=True):
        assert new.read_bytes() == old.read_bytes(), old.name


def test_ingest_waits_for_the_writer_lock_and_gives_up_with_exit_5(
    home: Home, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from wecom_eval.lock import writer_lock

    monkeypatch.setenv("WECOM_EVAL_LOCK_TIMEOUT", "0.2")
    with writer_lock(home.lock):
        code = main(["ingest", "roster", str(GOOD / "roster_gb18030_title.csv")])
    assert code == 5 and "holds the warehouse lock" in capsys.readouterr().err
    assert not home.warehouse.exists()


def test_the_subpackage_exports_exactly_its_public_names():
    import wecom_eval.ingest as package

    public = {n for n, v in vars(package).items() if not n.startswith("_") and type(v).__name__ != "module"}
    assert public - {"annotations"} == set(package.__all__)
