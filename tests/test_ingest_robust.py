"""Inputs that used to crash or slip through: out-of-range numbers, foreign encodings, future dates, chunk edges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from wecom_eval.cli import main
from wecom_eval.errors import InputError
from wecom_eval.home import Home
from wecom_eval.ingest import ingest, readfile
from wecom_eval.ingest.formats import identify_encoding
from wecom_eval.ingest.read import open_table, read_table
from wecom_eval.store.engine import MEMORY_ENV, TEMP_FOLDER, duckdb_config
from wecom_eval.store.warehouse import open_reader, open_writer

HEADER = "日期,账号,是否活跃,使用时长(分钟)\n"


def score(row: list[object]) -> int:
    return sum(1 for c in row if isinstance(c, str) and c.strip() in {"日期", "账号", "是否活跃", "使用时长(分钟)"})


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def counts(home: Home) -> dict[str, int]:
    if not home.warehouse.exists():
        return {}
    with open_reader(home) as wh:
        return wh.counts()


# ---- numbers: every range is checked before any cast ---------------------------------------


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        ("40000", "expected a value from 0 to 1440"),  # above SMALLINT's 32,767: was a ConversionException
        ("1441", "expected a value from 0 to 1440"),
        ("999999999999999999999999", "a duration of at most 1e+15 minutes"),  # was an OverflowError in pandas
    ],
)
def test_minutes_out_of_range_exit_2_and_change_nothing(
    minutes: str, expected: str, home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    main(["ingest", "activity", str(write(tmp_path / "ok.csv", HEADER + "2026-03-02,a,是,30\n"))])
    before = counts(home)
    bad = write(tmp_path / "bad.csv", HEADER + f"2026-03-02,b,是,30\n2026-03-03,b,是,{minutes}\n")
    code = main(["ingest", "activity", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "bad.csv, row 3, column 使用时长(分钟)" in err and expected in err
    assert counts(home) == before == {**before, "member_days": 1}


def test_a_huge_department_id_is_a_cell_problem(home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    roster = write(tmp_path / "r.csv", "工号,姓名,部门ID,入职日期\n1,张三,99999999999999999999,2026-01-05\n")
    assert main(["ingest", "roster", str(roster)]) == 2
    err = capsys.readouterr().err
    assert "row 2, column 部门ID" in err and "a whole number of at most 1e+15" in err


def test_the_warehouse_checks_a_range_before_storing_into_a_narrow_type(home: Home):
    # Arrow chunks into an empty table take the direct path; an out-of-range value must
    # fall back to the checked stage rather than fail DuckDB's cast to SMALLINT.
    chunk = pa.table(
        {
            "date": pa.array([dt.date(2026, 3, 2)] * 2),
            "userid": ["a", "b"],
            "active": [True, True],
            "minutes": pa.array([30, 40000], pa.int64()),
            "source": ["api", "api"],
        }
    )
    with open_writer(home) as wh, pytest.raises(InputError) as err:
        wh.load("member_days", [chunk], source="test")
    assert "row 2, column minutes: got 40000; expected a value from 0 to 1440" in str(err.value)
    assert counts(home)["member_days"] == 0


# ---- encodings -----------------------------------------------------------------------------

TRADITIONAL = "員工編號,姓名,部門,入職日期\n" + "".join(
    f"{1000 + i},{'張王李陳林黃'[i % 6]}{'偉華麗強軍靜'[i % 5]},{['總部/銷售部', '華東分公司/財務部'][i % 2]},"
    "2026-01-05\n"
    for i in range(30)
)
JAPANESE = "社員番号,氏名,部署,入社日\n" + "".join(
    f"{1000 + i},{['山田', '佐藤', '鈴木'][i % 3]}{['太郎', '花子'][i % 2]},{['営業部', '総務部'][i % 2]},2026-01-05\n"
    for i in range(30)
)


@pytest.mark.parametrize(
    ("text", "encoding", "named", "iconv"),
    [
        (TRADITIONAL, "big5", "text in Big5 (Traditional Chinese", "iconv -f BIG5 -t UTF-8"),
        (JAPANESE, "shift_jis", "text in Shift-JIS (Japanese)", "iconv -f SHIFT-JIS -t UTF-8"),
    ],
)
def test_a_file_in_another_encoding_is_named_not_read_as_mojibake(
    text: str, encoding: str, named: str, iconv: str, home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    data = text.encode(encoding)
    assert data.decode("gb18030")  # the trap: GB18030 "decodes" it into nonsense headers
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    assert main(["ingest", "roster", str(path)]) == 2
    err = capsys.readouterr().err
    assert named in err and "not GB18030/GBK" in err and iconv in err and "CSV UTF-8" in err
    assert "no column for" not in err
    assert not home.warehouse.exists()


def test_gb18030_exports_are_not_mistaken_for_another_encoding():
    # 200 small rosters of common simplified names: the detector must leave every one to GB18030.
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
    for n in range(1, 201):
        rows = "".join(
            f"{i},{'王李张刘陈杨黄赵吴周'[(n + i) % 10]}{given[(n * i) % len(given)]},总部/销售部,2026-01-05\n"
            for i in range(n % 17 + 1)
        )
        assert identify_encoding(("工号,姓名,部门,入职日期\n" + rows).encode("gb18030")) is None, n


def test_undecodable_bytes_say_what_the_detector_found(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x80\xff\xfe\x81" * 10)
    with pytest.raises(InputError) as err:
        read_table(path, score=score)
    assert "UTF-8, UTF-16 or GB18030" in str(err.value) and "CSV UTF-8" in str(err.value)


# ---- dates after the day of the load -------------------------------------------------------


def test_activity_dated_after_the_day_of_the_load_is_refused(home: Home, tmp_path: Path):
    # The load runs on 2026-04-01; with one day's margin for time zones 2026-04-02 is accepted,
    # 2026-04-03 is not. (Before: anything up to the plan's end + 3 years, 2029-05-24.)
    today = dt.date(2026, 4, 1)
    ok = write(tmp_path / "ok.csv", HEADER + "2026-04-01,a,是,30\n2026-04-02,a,是,30\n")
    assert ingest("activity", [ok], home=home, today=today).results["member_days"].inserted == 2
    late = write(tmp_path / "late.csv", HEADER + "2026-04-02,b,是,30\n2026-04-03,b,是,30\n2028-01-01,b,是,5\n")
    with pytest.raises(InputError) as err:
        ingest("activity", [late], home=home, today=today)
    message = str(err.value)
    assert "late.csv, row 3, column 日期: got '2026-04-03'; expected a date from 2023-03-02 to 2026-04-02" in message
    assert "late.csv, row 4, column 日期: got '2028-01-01'" in message and "row 2," not in message
    assert "this load runs on 2026-04-01" in message
    assert counts(home)["member_days"] == 2


def test_hire_dates_may_lie_ahead(home: Home, tmp_path: Path):
    roster = write(tmp_path / "r.csv", "工号,姓名,部门,入职日期\n1,张三,总部/销售部,2026-06-01\n")
    report = ingest("roster", [roster], home=home, today=dt.date(2026, 4, 1))
    assert report.results["employees"].inserted == 1


# ---- streaming: chunks change nothing but memory -------------------------------------------

NOTED = (
    "成员活跃度统计\n" + HEADER + "2026-03-02,a,是,30\n2026-03-02,b,否,0\n注：这一行在数据中间\n"
    "2026-03-03,a,是,45\n\n2026-03-03,b,是,5\n注：导出自管理后台\n合计,,,80\n"
)


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 100])
def test_chunks_hold_the_same_rows_lines_and_skipped_notes(chunk_rows: int, tmp_path: Path):
    path = write(tmp_path / "a.csv", NOTED)
    stream = open_table(path, score=score, chunk_rows=chunk_rows)
    chunks = list(stream.chunks())
    # a note at the end of a chunk is held over (it may end the data), so a chunk may be one longer
    assert all(len(c.rows) <= chunk_rows + 1 for c in chunks)
    # lines: title 1, header 2, data 3 4, a note amid the data 5 (kept: it is not at the end), 6, blank 7,
    # 8, then the notes 9 and 10 at the end (skipped)
    assert [line for c in chunks for line in c.lines] == [3, 4, 5, 6, 8]
    assert [row[0] for c in chunks for row in c.rows][2] == "注：这一行在数据中间"
    assert stream.skipped == [1, 9, 10] and stream.rows == 5
    whole = read_table(path, score=score)
    assert whole.lines == [3, 4, 5, 6, 8] and whole.skipped == [1, 9, 10]


def test_ingest_in_small_chunks_loads_the_same_and_a_bad_last_row_loads_nothing(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rows = "".join(f"2026-03-{d:02d},user{u},是,{(d * u) % 90}\n" for d in range(2, 9) for u in range(5))
    good = write(tmp_path / "good.csv", HEADER + rows)
    monkeypatch.setattr(readfile, "CHUNK_ROWS", 4)
    report = ingest("activity", [good], home=home)
    assert report.results["member_days"].inserted == 35
    assert "35 data rows" in str(report)
    with open_reader(home) as wh:
        assert wh.con.execute("SELECT sum(minutes) FROM member_days").fetchone()[0] == sum(
            (d * u) % 90 for d in range(2, 9) for u in range(5)
        )
    bad = write(tmp_path / "bad.csv", HEADER + rows.replace("2026-03-02", "2026-03-09") + "2026-03-10,x,是,2000\n")
    with pytest.raises(InputError) as err:
        ingest("activity", [bad], home=home)
    assert "bad.csv, row 37, column 使用时长(分钟) (minutes): got 2000" in str(err.value)
    assert counts(home)["member_days"] == 35


# ---- DuckDB's memory --------------------------------------------------------------------------


def test_duckdb_memory_is_bounded_by_default_and_spills_under_the_home(home: Home, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    config = duckdb_config(home.data)
    mib = int(config["memory_limit"].removesuffix("MiB"))
    assert 256 <= mib <= 1024
    assert config["temp_directory"] == str(home.data / TEMP_FOLDER)
    monkeypatch.setenv(MEMORY_ENV, "3GB")
    assert duckdb_config(home.data)["memory_limit"] == "3GB"
    with open_writer(home) as wh:
        limit = wh.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        folder = wh.con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert limit in ("2.7 GiB", "2.7GiB", "3.0 GB", "3.0GB") and folder == str(home.data / TEMP_FOLDER)
