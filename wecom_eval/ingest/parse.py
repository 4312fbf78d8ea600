"""Cell parsers: text, dates, times, durations and numbers (labels are in :mod:`~wecom_eval.ingest.labels`).

Each parser takes one cell as it came out of a file (text from a CSV; text, a number, a
``datetime``, a ``time`` or a ``timedelta`` from a workbook) and returns the canonical value,
or raises :class:`CellError` saying what was expected. None of them evaluates anything: a
cell that looks like a formula (``=``, ``+``, ``-``, ``@`` first) is just text, and fails to
parse as a date or a number like any other text.

:func:`parse_cells` applies a parser to a whole column, parsing each distinct value once, so
a million-row activity export with seven distinct dates costs seven date parses.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

EXCEL_1900 = dt.datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system (with its leap-year bug)
EXCEL_1904 = dt.datetime(1904, 1, 1)
# Serial numbers read as Excel dates: 1 (1900-01-01) … 2958465 (9999-12-31).
_SERIAL_MAX = 2958465

# Cells that mean "no value" in typed columns (text columns keep them as written).
EMPTY_MARKERS = frozenset({"", "-", "--", "—", "——", "/", "n/a", "na", "null", "none", "nan", "无", "暂无", "空"})

# Numbers beyond this are refused as cells before any typed column holds them (they fit
# int64 and float64 exactly); each table's own ranges (0–1,440 minutes a day…) come later.
LARGEST_NUMBER = 10**15

DATE_FORMATS = "2026-11-03, 2026/11/3, 2026.11.3, 2026年11月3日, 20261103 or an Excel date"


class CellError(ValueError):
    """A cell that could not be read; ``expected`` says what would have been accepted."""

    def __init__(self, expected: str, fix: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.fix = fix


def fold(text: str) -> str:
    """Text folded for comparison: full-width to half-width (NFKC), lower case, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def is_empty(value: object) -> bool:
    """True for a missing cell: None, NaN, blank text or an empty marker such as ``-`` or ``无``."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and fold(value) in EMPTY_MARKERS


def as_text(value: object) -> str | None:
    """A cell as text, exactly as written (trimmed); None when blank.

    Workbook numbers that are whole come back without ``.0`` (an id typed as 1001 is
    ``"1001"``); dates come back in ISO form. Formula-looking text is returned unchanged.
    """
    if isinstance(value, str):
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


# ---- dates and times -------------------------------------------------------------------

_TIME = (
    r"(?:(?P<ampm>上午|下午|am|pm)\s*)?(?P<h>\d{1,2})\s*[:时點点]\s*(?P<mi>\d{1,2})"
    r"(?:\s*[:分]\s*(?P<s>\d{1,2}(?:\.\d+)?)\s*秒?)?\s*分?(?:\s*(?P<ampm2>am|pm))?"
    r"\s*(?P<tz>z|[+-]\d{2}:?\d{2})?"
)
_YMD = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    rf"(?:(?:\s+|t|\s*)(?:{_TIME}))?$"
)
_COMPACT = re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$")
_SERIAL = re.compile(r"^\d{1,7}(?:\.\d+)?$")
_ENGLISH = ("%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y")
_ENGLISH_TIME = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")


def _from_serial(serial: float, epoch: dt.datetime) -> dt.datetime:
    if not 1 <= serial <= _SERIAL_MAX:
        raise CellError(f"a date ({DATE_FORMATS})")
    # Round to the second: serials carry float noise (0.375 of a day is 09:00:00, not 08:59:59.99).
    return epoch + dt.timedelta(seconds=round(serial * 86400))


def _parse_moment(value: object, epoch: dt.datetime) -> tuple[dt.datetime, bool, dt.tzinfo | None]:
    """(local date and time, whether a time was given, the explicit zone if any)."""
    if isinstance(value, bool):
        raise CellError(f"a date ({DATE_FORMATS})")
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None), value.time() != dt.time(), value.tzinfo
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day), False, None
    if isinstance(value, (int, float)):
        text = str(int(value)) if float(value).is_integer() else ""
        if _COMPACT.match(text):
            return _parse_moment(text, epoch)
        moment = _from_serial(float(value), epoch)
        return moment, not float(value).is_integer(), None
    text = fold(str(value))
    if _COMPACT.match(text):
        m = _COMPACT.match(text)
        assert m is not None  # for type checkers; matched just above
        return _ymd(m, text), False, None
    if _SERIAL.match(text):
        return _from_serial(float(text), epoch), "." in text and float(text) % 1 != 0, None
    m = _YMD.match(text)
    if m:
        moment = _ymd(m, text)
        if m.group("h") is None:
            return moment, False, None
        hour, minute = int(m.group("h")), int(m.group("mi"))
        second = float(m.group("s") or 0)
        ampm = m.group("ampm") or m.group("ampm2")
        if ampm in ("下午", "pm") and hour < 12:
            hour += 12
        elif ampm in ("上午", "am") and hour == 12:
            hour = 0
        if hour > 23 or minute > 59 or second >= 60:
            raise CellError(f"a time of day from 00:00 to 23:59 after the date (got {hour}:{minute:02d})")
        moment = moment.replace(hour=hour, minute=minute, second=int(second), microsecond=round((second % 1) * 1e6))
        return moment, True, _zone(m.group("tz"))
    for fmt in _ENGLISH:
        for tfmt in _ENGLISH_TIME:
            try:
                moment = dt.datetime.strptime(str(value).strip(), fmt + tfmt)
            except ValueError:
                continue
            return moment, bool(tfmt), None
    if re.match(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", text):
        raise CellError(
            f"a date with the year first ({DATE_FORMATS})",
            "Day/month order is ambiguous when the year comes last; export dates as YYYY-MM-DD.",
        )
    raise CellError(f"a date ({DATE_FORMATS})")


def _ymd(m: re.Match[str], text: str) -> dt.datetime:
    try:
        return dt.datetime(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        raise CellError(f"a real calendar date ({DATE_FORMATS}); {text!r} does not exist") from None


def _zone(text: str | None) -> dt.tzinfo | None:
    if not text:
        return None
    if text == "z":
        return dt.UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_date(value: object, *, epoch: dt.datetime = EXCEL_1900) -> dt.date:
    """A calendar date; a time of day, if given, is dropped.

    Examples
    --------
    >>> parse_date("2026年11月3日"), parse_date("2026/11/3 9:30"), parse_date(46329)
    (datetime.date(2026, 11, 3), datetime.date(2026, 11, 3), datetime.date(2026, 11, 3))
    """
    moment, _has_time, zone = _parse_moment(value, epoch)
    return moment.date()


def parse_timestamp(value: object, *, tz: str = "Asia/Shanghai", epoch: dt.datetime = EXCEL_1900) -> dt.datetime:
    """A moment in zone ``tz`` (timezone-aware). Times without a zone are read in ``tz``.

    A date without a time is midnight. An explicit offset (``+08:00``, ``Z``) is honoured
    and converted to ``tz``.

    Examples
    --------
    >>> parse_timestamp("2026/3/2 下午2:05")
    datetime.datetime(2026, 3, 2, 14, 5, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
    >>> parse_timestamp("2026-03-02T06:05:00Z").hour
    14
    """
    moment, _has_time, zone = _parse_moment(value, epoch)
    local = ZoneInfo(tz)
    if zone is None:
        return moment.replace(tzinfo=local)
    return moment.replace(tzinfo=zone).astimezone(local)


# ---- durations -------------------------------------------------------------------------

_UNITS = {"hours": 60.0, "minutes": 1.0, "seconds": 1 / 60}
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)\s*(?:小时|个小时|時|时|h|hr|hrs|hour|hours))?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:分钟|分鐘|分|m|min|mins|minute|minutes))?\s*"
    r"(?:(?P<s>\d+(?:\.\d+)?)\s*(?:秒钟|秒|s|sec|secs|second|seconds))?$"
)
_CLOCK = re.compile(r"^(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}(?:\.\d+)?))?$")
DURATION_FORMATS = "minutes (150), 150分钟, 2小时30分, 2.5小时, 1:30 (hours:minutes) or 2h30m"


def parse_minutes(value: object, *, unit: str = "minutes") -> int:
    """A duration in whole minutes (rounded to the nearest minute).

    A bare number is in ``unit`` (``"minutes"``, ``"hours"`` or ``"seconds"``, taken from the
    column header, e.g. 使用时长(小时)); a number with its unit, or ``h:mm``, speaks for itself.

    Examples
    --------
    >>> [parse_minutes(v) for v in ("2小时30分", "150分钟", "1:30", "45", "2.5小时", "2h30m")]
    [150, 150, 90, 45, 150, 150]
    """
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of {', '.join(_UNITS)}, got {unit!r}")
    if isinstance(value, bool):
        raise CellError(f"a duration: {DURATION_FORMATS}")
    if isinstance(value, dt.timedelta):
        minutes = value.total_seconds() / 60
    elif isinstance(value, dt.time):
        minutes = value.hour * 60 + value.minute + value.second / 60
    elif isinstance(value, (int, float)):
        minutes = float(value) * _UNITS[unit]
    else:
        text = fold(str(value)).replace(" ", "")
        clock = _CLOCK.match(text)
        parts = _DURATION.match(text)
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            minutes = float(text) * _UNITS[unit]
        elif clock:
            if int(clock.group("m")) > 59:
                raise CellError(f"a duration: {DURATION_FORMATS}")
            minutes = int(clock.group("h")) * 60 + int(clock.group("m")) + float(clock.group("s") or 0) / 60
        elif parts and any(parts.groupdict().values()):
            minutes = (
                float(parts.group("h") or 0) * 60 + float(parts.group("m") or 0) + float(parts.group("s") or 0) / 60
            )
        else:
            raise CellError(f"a duration: {DURATION_FORMATS}")
    if math.isnan(minutes) or minutes < 0:
        raise CellError(f"a duration of zero or more: {DURATION_FORMATS}")
    if minutes > LARGEST_NUMBER:
        raise CellError(
            f"a duration of at most {LARGEST_NUMBER:.0e} minutes: {DURATION_FORMATS}",
            "The number is far too large for a duration; check the column and the unit.",
        )
    return math.floor(minutes + 0.5)


def parse_int(value: object) -> int:
    """A whole number (``1001``, ``"1001"``, ``1001.0``) of at most :data:`LARGEST_NUMBER`."""
    if isinstance(value, bool):
        raise CellError("a whole number")
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = fold(str(value)).replace(",", "")
        if re.fullmatch(r"[+-]?\d+(?:\.0+)?", text):
            number = int(text.split(".")[0])
    if number is None:
        raise CellError("a whole number")
    if abs(number) > LARGEST_NUMBER:
        raise CellError(f"a whole number of at most {LARGEST_NUMBER:.0e}", "Check the column: this is not an id.")
    return number


# ---- whole columns ---------------------------------------------------------------------


def parse_cells(cells: Sequence[object], parser: Callable[[Any], T]) -> tuple[list[T | None], dict[int, CellError]]:
    """Parse a column: the values (None where empty or bad) and the errors by position.

    Each distinct cell is parsed once (keyed by type and value, so ``1`` and ``True`` differ).
    """
    cache: dict[tuple[type, object], T | CellError | None] = {}
    values: list[T | None] = []
    errors: dict[int, CellError] = {}
    for i, cell in enumerate(cells):
        key = (type(cell), cell)
        try:
            result = cache[key]
        except KeyError:
            if is_empty(cell):
                result = None
            else:
                try:
                    result = parser(cell)
                except CellError as exc:
                    result = exc
            cache[key] = result
        except TypeError:  # an unhashable cell; parse it directly
            result = None if is_empty(cell) else parser(cell)
        if isinstance(result, CellError):
            errors[i] = result
            values.append(None)
        else:
            values.append(result)
    return values, errors


def split_choices(text: str, separators: Iterable[str] = ("┋", "|", "、", ",", "，", ";", "；", "\n")) -> list[str]:
    """The options of a multi-select answer, in order, without blanks or repeats.

    Examples
    --------
    >>> split_choices("审批、文档，客户管理;;审批")
    ['审批', '文档', '客户管理']
    """
    pattern = "|".join(re.escape(s) for s in separators)
    seen: dict[str, None] = {}
    for part in re.split(pattern, text):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)
