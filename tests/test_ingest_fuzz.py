"""Property-based fuzzing of the file readers and ``wecom-eval ingest`` (hypothesis).

Generated CSV and XLSX files — headers drawn from the alias table mixed with noise, cells
that are numbers, huge numbers, dates in odd formats, durations, yes/no words, Chinese
text, control characters and formula-looking text, in random encodings and delimiters,
sometimes cut short — go through :func:`read_table` and through the real command line
(``main(["ingest", KIND, FILE])`` in process), into an empty home or one holding a roster.

The properties: the reader returns a table or raises :class:`InputError`; the command exits
0 with every reported row in the warehouse, or 2 with every table and the raw landing
unchanged — never another code, never an exception.

The suite runs a few examples; ``WECOM_EVAL_FUZZ=long`` runs many
(``WECOM_EVAL_FUZZ_EXAMPLES`` files through ingest, default 3,000, and five times as many
through the reader alone), e.g.::

    WECOM_EVAL_FUZZ=long .venv/bin/python -m pytest -p no:xdist -q tests/test_ingest_fuzz.py -s
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wecom_eval.cli import main
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import ingest
from wecom_eval.ingest.aliases import packaged_aliases
from wecom_eval.ingest.kinds import KINDS
from wecom_eval.ingest.parse import CellError, parse_date
from wecom_eval.ingest.read import read_table
from wecom_eval.store.schema import LOAD_ORDER
from wecom_eval.store.warehouse import open_reader

LONG = os.environ.get("WECOM_EVAL_FUZZ") == "long"
EXAMPLES = int(os.environ.get("WECOM_EVAL_FUZZ_EXAMPLES", "3000")) if LONG else 10
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
SALT = "fuzz-salt-0123456789abcdef"
ALIASES = packaged_aliases()
ROSTER = "工号,姓名,部门,入职日期,账号,激活状态\n" + "".join(
    f"{1000 + i},员工{i},总部/{['销售部', '财务部'][i % 2]},2025-06-01,user{i},已激活\n" for i in range(6)
)


# ---- cells, headers, files -------------------------------------------------------------------

DATES = st.dates(dt.date(1890, 1, 1), dt.date(2200, 12, 31))
DATE_TEXT = st.one_of(
    st.builds(lambda d: d.isoformat(), DATES),
    st.builds(lambda d: f"{d.year}/{d.month}/{d.day}", DATES),
    st.builds(lambda d: f"{d.year}年{d.month}月{d.day}日", DATES),
    st.builds(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}", DATES),
    st.builds(lambda d: d.strftime("%Y%m%d"), DATES),
    st.builds(lambda d, h, m: f"{d.isoformat()} {h}:{m:02d}", DATES, st.integers(0, 30), st.integers(0, 70)),
    st.builds(lambda d: d.strftime("%d %b %Y"), DATES),
    st.sampled_from(
        [
            "2026-02-30",
            "2026-13-01",
            "0000-00-00",
            "46083",
            "46083.375",
            "2958466",
            "2026-03-02T08:00Z",
            "2026-03-02 下午2:05",
            "2026-03-02 25:00",
            "2026-03-02+08:00",
        ]
    ),
)
WORDS = st.sampled_from(
    [
        "是",
        "否",
        "活跃",
        "Y",
        "n",
        "已激活",
        "未激活",
        "已禁用",
        "已退出",
        "已通过",
        "已驳回",
        "审批中",
        "非常满意",
        "满意",
        "一般",
        "5分",
        "★★★",
        "B. 满意",
        "2小时30分",
        "150分钟",
        "1:30",
        "2.5小时",
        "2h30m",
        "-",
        "无",
        "N/A",
        "合计",
        "注：导出",
        "总部/销售部",
        "总部",
        "销售部",
        "user1",
        "user2",
        "1001",
        "2026-Q1",
    ]
)
CELLS = st.one_of(
    st.just(""),
    WORDS,
    DATE_TEXT,
    st.integers(-10, 2000).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.text("张王李赵销售部总部审批文档满意是否", max_size=8),
    st.text("\x00\x01\x07\t\n\r\x0b\x1b\x7f\"',;|=+-@ ", max_size=6),
    st.sampled_from(["=1+1", '=HYPERLINK("http://x")', "+1", "@SUM(A1)", "x" * 5000]),
)
FIELDS = sorted(ALIASES.fields)


# Well-formed values per parser, so that many files load and the load path is fuzzed too.
IN_WINDOW = st.dates(dt.date(2026, 3, 2), dt.date(2026, 11, 30))
GOOD_DATES = st.one_of(
    st.builds(lambda d: d.isoformat(), IN_WINDOW),
    st.builds(lambda d: f"{d.year}/{d.month}/{d.day}", IN_WINDOW),
    st.builds(lambda d: f"{d.year}年{d.month}月{d.day}日", IN_WINDOW),
)
GOOD = {
    "text": st.one_of(
        st.sampled_from([f"user{i}" for i in range(8)]), st.text("张王李赵伟芳abc123", min_size=1, max_size=6)
    ),
    "int": st.integers(1, 99).map(str),
    "date": GOOD_DATES,
    "timestamp": st.one_of(
        GOOD_DATES, st.builds(lambda d, h: f"{d.isoformat()} {h:02d}:30", IN_WINDOW, st.integers(0, 23))
    ),
    "minutes": st.one_of(st.integers(0, 1440).map(str), st.sampled_from(["2小时30分", "150分钟", "1:30", "45"])),
    "bool": st.sampled_from(["是", "否", "Y", "N"]),
    "member_status": st.sampled_from(["已激活", "未激活", "已禁用", "已退出"]),
    "approval_status": st.sampled_from(["已通过", "已驳回", "审批中", "已撤回"]),
}
SPECIAL = {
    "department": st.sampled_from(["总部/销售部", "总部/财务部", "总部/新部门", "销售部"]),
    "wave": st.just("2026-Q1"),
    "hire_date": st.just("2025-06-01"),
    "leave_date": st.just(""),
    "userid": st.sampled_from([f"user{i}" for i in range(8)]),
}


@st.composite
def headers(draw: st.DrawFn, kind: str) -> tuple[list[str], list[st.SearchStrategy[str]]]:
    """Headers and each column's cell strategy: the kind's required fields and some others, plus noise."""
    spec = KINDS[kind]
    wanted = [f for f in spec.fields if f.required or draw(st.integers(0, 2)) == 0]
    wanted += [spec.field(group[0]) for group in spec.one_of if not any(f.name in group for f in wanted)]
    wanted = draw(st.permutations(wanted))
    header, columns = [], []
    for f in wanted:
        header.append(draw(st.sampled_from(ALIASES.aliases(f.name) or (f.name,))))
        columns.append(SPECIAL.get(f.name, GOOD[f.parser]))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):  # other columns: survey questions, unknown or another kind's
        header.append(
            draw(
                st.one_of(
                    st.sampled_from(["问题1 满意度", "您对企业微信满意吗", "多选 功能", "备注"]),
                    st.sampled_from(FIELDS).map(lambda n: (ALIASES.aliases(n) or (n,))[0]),
                    CELLS,
                )
            )
        )
        columns.append(st.one_of(st.sampled_from(["非常满意", "满意", "3", "审批、文档"]), CELLS))
    return header, columns


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, list[str], list[list[str]]]:
    kind = draw(st.sampled_from(sorted(KINDS)))
    header, columns = draw(headers(kind))
    noise = draw(st.sampled_from([0, 0, 0, 5, 50]))  # % of cells replaced by hostile ones
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        row = [draw(CELLS) if draw(st.integers(0, 99)) < noise else draw(c) for c in columns]
        if noise and draw(st.integers(0, 9)) == 0:  # a ragged row
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(CELLS, max_size=2))
        rows.append(row)
    return kind, header, rows


def csv_bytes(draw: st.DrawFn, header: list[str], rows: list[list[str]]) -> bytes:
    delimiter = draw(st.sampled_from([",", "\t", ";", "|"]))
    out = io.StringIO()
    if draw(st.booleans()):
        out.write(
            draw(
                st.sampled_from(
                    ["成员活跃度统计 2026-03-02 至 2026-03-08\n", "sep=;\n", "sep=,\n", "\n\n", '"标题",,,\n']
                )
            )
        )
    if draw(st.integers(0, 4)):
        writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
        writer.writerow(header)
        writer.writerows(rows)
    else:  # written carelessly: no quoting at all
        out.write("\n".join(delimiter.join(r) for r in [header, *rows]) + "\n")
    if draw(st.booleans()):
        out.write(draw(st.sampled_from(["注：数据来自管理后台\n", "合计,,,\n", "\n"])))
    text = out.getvalue()
    encoding = draw(
        st.sampled_from(
            [
                "utf-8",
                "utf-8-sig",
                "utf-16",
                "utf-16-le",
                "utf-16-be",
                "gb18030",
                "gbk",
                "utf-8",
                "gb18030",
                "big5",
                "shift_jis",
                "cp1252",
                "latin-1",
            ]
        )
    )
    return text.encode(encoding, errors="replace")


def xlsx_bytes(draw: st.DrawFn, header: list[str], rows: list[list[str]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    illegal = openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE  # type: ignore[attr-defined]
    for row in [header, *rows]:
        cells: list[object] = []
        for cell in row:
            typed = draw(st.sampled_from(["text", "number", "date"]))
            if typed == "number":
                try:
                    cells.append(float(cell) if abs(float(cell)) < 1e300 else cell)
                except ValueError:
                    cells.append(illegal.sub("", cell))
            elif typed == "date" and cell[:4].isdigit() and cell[4:5] in ("-", "/", "年"):
                try:  # the same day as a workbook date cell
                    cells.append(dt.datetime.combine(parse_date(cell), dt.time(draw(st.integers(0, 23)))))
                except CellError:
                    cells.append(draw(st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1))))
            else:
                cells.append(illegal.sub("", cell))
        ws.append(cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@st.composite
def files(draw: st.DrawFn) -> tuple[str, str, bytes]:
    kind, header, rows = draw(tables())
    fmt = draw(st.sampled_from(["csv", "csv", "xlsx"]))
    data = csv_bytes(draw, header, rows) if fmt == "csv" else xlsx_bytes(draw, header, rows)
    if draw(st.integers(0, 9)) == 0:  # cut short, as an interrupted download; the cut is drawn as a share
        data = data[: len(data) * draw(st.integers(0, 1000)) // 1000]  # (a workbook's length varies with its save time)
    return kind, fmt, data


# ---- the properties ----------------------------------------------------------------------


def score(row: list[object]) -> int:
    return sum(1 for c in row if isinstance(c, str) and c.strip() in {"日期", "账号", "工号", "姓名"})


@contextlib.contextmanager
def environment(home: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("WECOM_EVAL_HOME", "WECOM_EVAL_SALT")}
    os.environ.update({"WECOM_EVAL_HOME": str(home), "WECOM_EVAL_SALT": SALT})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def state(home: Home) -> dict[str, object]:
    """Every table's row count and content hash, the load log and the raw landing."""
    raw = sorted(str(p.relative_to(home.raw)) for p in home.raw.rglob("*")) if home.raw.exists() else []
    if not home.warehouse.exists():
        return {"raw": raw}
    with open_reader(home) as wh:
        tables = {
            t: tuple(wh.con.execute(f"SELECT count(*), sum(hash({t})) FROM {t}").fetchone())  # type: ignore[arg-type]
            for t in LOAD_ORDER
        }
        loads = wh.con.execute("SELECT count(*) FROM _loads").fetchone()[0]  # type: ignore[index]
    return {"raw": raw, "tables": tables, "loads": loads}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a small roster (so that references are checked), copied for each example."""
    root = tmp_path_factory.mktemp("seeded")
    roster = root / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    with environment(root):
        ingest("roster", [roster], home=Home.from_env(root))
    roster.unlink()
    return root


COUNT = {"loaded": 0, "refused": 0, "read": 0, "unreadable": 0}


def tally(outcome: str) -> None:
    COUNT[outcome] += 1
    if LONG and sum(COUNT.values()) % 100 == 0:  # progress of a long run (seen with -s)
        print(f"fuzz progress: {COUNT}", flush=True)


@FUZZ
@given(case=files(), seeded_home=st.booleans(), wave=st.booleans())
@example(
    case=("activity", "csv", "日期,账号,使用时长\n2026-03-02,user1,30\n2026-03-02,user2,0\n".encode("gb18030")),
    seeded_home=True,
    wave=False,
)  # one that loads, whatever the short run draws
def test_any_file_loads_whole_or_changes_nothing(
    case: tuple[str, str, bytes], seeded_home: bool, wave: bool, seeded: Path
):
    kind, fmt, data = case
    with tempfile.TemporaryDirectory(prefix="wecom-eval-fuzz-") as tmp:
        root = Path(tmp) / "home"
        if seeded_home:
            shutil.copytree(seeded, root)
        else:
            root.mkdir()
        path = Path(tmp) / f"export.{fmt}"
        path.write_bytes(data)
        home = Home.from_env(root)
        before = state(home)
        args = ["ingest", kind, str(path)] + (["--wave", "2026-Q1"] if kind == "survey" and wave else [])
        err = io.StringIO()
        with environment(root), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(args)
        after = state(home)
        assert code in (0, 2), err.getvalue()
        if code == 2:
            tally("refused")
            assert "nothing was changed" in err.getvalue()
            assert after == before
        else:
            tally("loaded")
            assert len(after["raw"]) >= len(before["raw"])  # type: ignore[arg-type]
            with open_reader(home) as wh:  # this load's lines in the load log: table → rows new
                new = dict(
                    wh.con.execute(
                        f"SELECT table_name, inserted FROM _loads WHERE rowid >= {before.get('loads', 0)}"
                    ).fetchall()
                )
            assert new, "exit 0 without a load"
            old = before.get("tables") or {t: (0, None) for t in LOAD_ORDER}
            for t in LOAD_ORDER:
                if t in new:  # every row the log counts as new is in the table (upserts keep the count)
                    assert after["tables"][t][0] - old[t][0] == new[t], t  # type: ignore[index]
                else:  # no rows come or go (derived values may follow: activation dates from activity)
                    assert after["tables"][t][0] == old[t][0], t  # type: ignore[index]


@settings(FUZZ, max_examples=EXAMPLES * 5)
@given(case=files())
def test_any_file_is_read_or_refused_with_an_input_error(case: tuple[str, str, bytes]):
    _kind, fmt, data = case
    with tempfile.TemporaryDirectory(prefix="wecom-eval-fuzz-") as tmp:
        path = Path(tmp) / f"export.{fmt}"
        path.write_bytes(data)
        try:
            table = read_table(path, score=score)
        except InputError as exc:
            tally("unreadable")
            assert exc.problems and exc.exit_code == 2
            return
        tally("read")
        assert table.rows and len(table.rows) == len(table.lines)
        assert all(len(row) == len(table.header) for row in table.rows)
        assert table.lines == sorted(table.lines) and table.header_line < table.lines[0]


def test_zz_report_how_many_files_were_tried(capsys: pytest.CaptureFixture[str]):
    # Runs after the property (file order); prints the tally with -s.
    with capsys.disabled():
        print(
            f"\nfuzzed reader: {COUNT['read'] + COUNT['unreadable']} files, {COUNT['read']} read, "
            f"{COUNT['unreadable']} refused with an input error; fuzzed ingest: "
            f"{COUNT['loaded'] + COUNT['refused']} files, "
            f"{COUNT['loaded']} loaded (exit 0), {COUNT['refused']} refused (exit 2); no other outcome"
        )
    assert COUNT["loaded"] + COUNT["refused"] == 0 or COUNT["loaded"] >= 1  # the explicit example loads
