"""A plain activity export read by Arrow's CSV reader gives the very rows, report and messages of
the general cell-by-cell reader; any file it has doubts about goes to the general reader."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from wecom_eval.ingest import fastcsv
from wecom_eval.ingest.columns import Context, ProblemLog
from wecom_eval.ingest.departments import DepartmentIndex
from wecom_eval.ingest.kinds import kind
from wecom_eval.ingest.mapping import load_mappings
from wecom_eval.ingest.readfile import read_file
from wecom_eval.plan import RolloutPlan

TODAY = dt.date(2026, 11, 20)
HEAD = "日期,账号,是否活跃,使用时长(分钟)\n"
PLAIN = {
    "yes/no and minutes": HEAD + "2026-11-02,zhangwei,是,95\n2026-11-02,wangfang,否,0\n2026-11-03, lina ,是,42",
    "the example's layout": "日期,账号,姓名,是否活跃,使用时长(分钟)\n2026-03-02,zhangwei,张伟,是,95\n"
    "2026-03-02,lina,李娜,否,0\n",
    "hours, no yes/no": "日期,账号,使用时长(小时)\n2026/11/2,a,1.5\n2026年11月3日,b,0\n20261104,c,2小时30分\n",
    "yes/no only, a source, a BOM": "\ufeff日期,账号,是否活跃,数据来源\n2026-11-02,a,Y,api_log\n2026-11-02,b,N,\n",
    "a blank yes/no beside minutes": HEAD + "2026-11-02,a,,30\n2026-11-02,b,,0\n2026-11-02,c,-,5\n",
    "ids padded with spaces": HEAD + "2026-11-02,\u3000a,是,95\n2026-11-02,b\x1f,否,0\n2026-11-02,c ,否,0\n",
    "Windows line ends": (HEAD + "2026-11-02,a,是,95\n2026-11-02,b,否,0\n").replace("\n", "\r\n"),
    "no line end at the end": HEAD + "2026-11-02,a,是,95\r\n2026-11-02,b,否,0",
    "English headers": "date,userid,active,minutes\n2026-11-02,a,yes,1:30\n2026-11-02,b,no,0\n",
}
GENERAL = {
    "quotes": HEAD + '2026-11-02,"a",是,95\n',
    "a blank line": HEAD + "2026-11-02,a,是,95\n\n2026-11-02,b,否,0\n",
    "a blank row": HEAD + "2026-11-02,a,是,95\n , , , \n2026-11-02,b,否,0\n",
    "a title row": "成员活跃度统计 2026-11-02\n" + HEAD + "2026-11-02,a,是,95\n",
    "a note at the end": HEAD + "2026-11-02,a,是,95\n注：仅统计已激活成员,,,\n",
    "old Mac line ends": (HEAD + "2026-11-02,a,是,95\n").replace("\n", "\r"),
    "a blank CRLF line": (HEAD + "2026-11-02,a,是,95\n\n2026-11-02,b,否,0\n").replace("\n", "\r\n"),
    "a lone CR in a line": HEAD + "2026-11-02,a\r,是,95\n",
    "a bad date": HEAD + "2026-13-02,a,是,95\n2026-11-02,b,否,0\n",
    "a date ahead of the load": HEAD + "2026-12-30,a,是,95\n",
    "no userid": HEAD + "2026-11-02,,是,95\n",
    "neither yes/no nor minutes": HEAD + "2026-11-02,a,,\n",
    "a ragged row": HEAD + "2026-11-02,a,是,95,extra\n",
    "a bad duration": HEAD + "2026-11-02,a,是,很久\n",
    "tab-separated": HEAD.replace(",", "\t") + "2026-11-02\ta\t是\t95\n",
}


def _read(path: Path, plan: RolloutPlan, *, fast: bool) -> tuple[str, list[pa.Table], list[object]]:
    spec = kind("activity")
    mappings = load_mappings(None, kind="activity", extra=[])
    log = ProblemLog()
    ctx = Context("activity", plan, mappings, DepartmentIndex.from_frame(plan, None), log, today=TODAY)
    read = read_file(path, spec, ctx, sheet_name=None, fast=fast)
    log.summarise()
    if read is None:
        return "unreadable", [], log.problems
    report, parts, _head = read
    return str(report), parts.get("member_days", []), log.problems


def _same(path: Path, plan: RolloutPlan) -> bool:
    """Both readers agree on ``path``; returns whether the fast one read it."""
    report, tables, problems = _read(path, plan, fast=True)
    want_report, want_tables, want_problems = _read(path, plan, fast=False)
    assert (report, problems) == (want_report, want_problems)
    assert len(tables) == len(want_tables)
    for got, want in zip(tables, want_tables, strict=True):
        assert got.replace_schema_metadata(None).equals(want.replace_schema_metadata(None)), (got, want)
    return bool(tables) and tables[0].schema.metadata is None  # the general reader's rows come from pandas


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_a_plain_export_is_read_fast_and_gives_the_same_rows(name: str, tmp_path: Path, plan: RolloutPlan) -> None:
    path = tmp_path / "activity.csv"
    path.write_text(PLAIN[name], encoding="utf-8")
    assert _same(path, plan)


@pytest.mark.parametrize("name", sorted(GENERAL))
def test_any_other_file_is_read_cell_by_cell(name: str, tmp_path: Path, plan: RolloutPlan) -> None:
    path = tmp_path / "activity.csv"
    path.write_bytes(GENERAL[name].encode("utf-8"))
    assert not _same(path, plan)


def test_a_gb18030_export_is_read_cell_by_cell(tmp_path: Path, plan: RolloutPlan) -> None:
    path = tmp_path / "activity.csv"
    path.write_bytes(PLAIN["yes/no and minutes"].encode("gb18030"))
    assert not _same(path, plan)


def test_a_file_past_the_size_limit_is_read_in_chunks(
    tmp_path: Path, plan: RolloutPlan, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "activity.csv"
    path.write_text(PLAIN["yes/no and minutes"], encoding="utf-8")
    monkeypatch.setattr(fastcsv, "MAX_BYTES", path.stat().st_size - 1)
    assert not _same(path, plan)
