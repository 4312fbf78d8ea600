"""A file's records as they are stored: text encodings and delimiters, CSV and XLSX.

- Text encodings are tried in an order that cannot be fooled: a byte-order mark first
  (UTF-8 or UTF-16), then strict UTF-8, then UTF-16 without a mark (recognised by its NUL
  bytes), then GB18030 (a superset of GBK and GB2312). GB18030 goes last because almost
  any bytes decode as GB18030, while GB18030 text practically never decodes as strict UTF-8.
- The delimiter (comma, tab, semicolon, ``|``) is the one that splits the lines most
  consistently; an Excel ``sep=;`` hint line wins.
- Records come one at a time with their line numbers (:data:`Records`), never the whole file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

from wecom_eval.errors import InputError, Problem

DELIMITERS = (",", "\t", ";", "|")
SAVE_AS = "Open it in Excel or WPS and save it as .xlsx or as CSV (UTF-8), then ingest that file."


def any_filled(row: Sequence[object]) -> bool:
    for c in row:  # noqa: SIM110 - a plain loop is faster than any() on a generator, once per row
        if c is not None and (not isinstance(c, str) or c.strip()):
            return True
    return False


def fail(path: Path, value: object, expected: str, fix: str = "") -> InputError:
    return InputError(str(path), [Problem(f"{path}", value, expected, fix)])


BLOCK = 1 << 20  # bytes read at a time: files are checked and read in blocks, never whole
# What the detector's names mean, for messages; GB18030's family is what we read anyway.
_GB_FAMILY = frozenset({"gb18030", "gbk", "gb2312", "hz"})
_KNOWN = {
    "big5": "Big5 (Traditional Chinese, Taiwan/Hong Kong)",
    "big5hkscs": "Big5-HKSCS (Traditional Chinese)",
    "cp950": "Big5 (Traditional Chinese)",
    "shift_jis": "Shift-JIS (Japanese)",
    "cp932": "Shift-JIS (Japanese)",
    "shift_jis_2004": "Shift-JIS (Japanese)",
    "shift_jisx0213": "Shift-JIS (Japanese)",
    "euc_jp": "EUC-JP (Japanese)",
    "euc_jis_2004": "EUC-JP (Japanese)",
    "iso2022_jp": "ISO-2022-JP (Japanese)",
    "euc_kr": "EUC-KR (Korean)",
    "cp949": "EUC-KR/CP949 (Korean)",
    "johab": "Johab (Korean)",
    "cp1252": "Windows-1252 (Western European)",
    "latin_1": "Latin-1 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
}
NO_TEXT = "no text encoding the detector knows (a binary file?)"
_REEXPORT = (
    "Export it again as CSV UTF-8 (Excel: 另存为 → CSV UTF-8; WPS: 另存为 → CSV, encoding UTF-8) or as .xlsx, "
    "or convert it, e.g. `iconv -f {name} -t UTF-8 old.csv > new.csv`, then ingest that file."
)


def _decodes(stream: BinaryIO, encoding: str) -> tuple[bool, bool]:
    """(whether the whole stream decodes strictly as ``encoding``, whether it holds NUL bytes)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    nul = False
    try:
        while block := stream.read(BLOCK):
            decoder.decode(block)
            nul = nul or b"\x00" in block
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, nul
    return True, nul


def _detect(stream: BinaryIO) -> tuple[str, bool]:
    """The encoding of a text export and whether its bytes hold NULs (see :func:`detect_encoding`)."""
    stream.seek(0)
    head = stream.read(4096)
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            ok, nul = _decodes(stream, name)
            if not ok:  # a byte-order mark, then bytes of another encoding (or cut short mid-character)
                raise ValueError(f"not {name} text after its byte-order mark")
            return name, nul and name == "utf-8-sig"
    ok, nul = _decodes(stream, "utf-8")
    if ok:
        return "utf-8", nul
    if len(head) >= 4:
        even_nul = head[0::2].count(0) / len(head[0::2])
        odd_nul = head[1::2].count(0) / len(head[1::2])
        for name, ratio in (("utf-16-le", odd_nul), ("utf-16-be", even_nul)):
            if ratio > 0.2 and _decodes(stream, name)[0]:
                return name, False
    ok, nul = _decodes(stream, "gb18030")
    if ok:
        return "gb18030", nul
    raise ValueError("not UTF-8, UTF-16 or GB18030 text")


def detect_encoding(data: bytes) -> str:
    """The encoding of a text export: utf-8-sig, utf-16, utf-8, utf-16-le/-be or gb18030.

    Raises
    ------
    ValueError
        When the bytes are none of these (the caller turns it into an input error).

    Examples
    --------
    >>> detect_encoding("部门".encode("gb18030")), detect_encoding("部门".encode("utf-8"))
    ('gb18030', 'utf-8')
    """
    return _detect(io.BytesIO(data))[0]


def identify_encoding(sample: bytes) -> str | None:
    """What a maintained detector (charset-normalizer) takes ``sample`` for, when GB18030 is implausible.

    GB18030 decodes almost any bytes, so a Big5, Shift-JIS or Windows-1252 export would be
    read as mojibake. The detector ranks the encodings a sample could be in by how messy
    the decoded text looks; when GB18030 (or GBK) is among the cleanest, the file is taken
    as GB18030 and this returns None; otherwise it returns a readable name of the best
    guesses (e.g. "Big5 (Traditional Chinese, Taiwan/Hong Kong)"). Short samples are often
    ambiguous; then GB18030 is among the candidates and the file is read as before.
    """
    from charset_normalizer import from_bytes  # imported here: only files in no expected encoding need it

    matches = list(from_bytes(sample))
    if not matches:
        return NO_TEXT
    cleanest = min(m.chaos for m in matches)
    plausible = [m for m in matches if m.chaos <= cleanest + 0.05]
    if any(m.encoding in _GB_FAMILY for m in plausible):
        return None
    plausible.sort(key=lambda m: (m.chaos, -m.coherence))
    best = max(plausible[:3], key=lambda m: m.coherence)  # the language fits best among the cleanest
    names = dict.fromkeys(
        [_KNOWN.get(best.encoding, best.encoding)] + [_KNOWN.get(m.encoding, m.encoding) for m in plausible[:3]]
    )
    return " or ".join(names)


def _sample(stream: BinaryIO, size: int = 256 * 1024) -> bytes:
    """The file's first ``size`` bytes, cut after the last full line."""
    stream.seek(0)
    data = stream.read(size)
    cut = data.rfind(b"\n")
    return data[: cut + 1] if len(data) == size and cut > 0 else data


def sniff_delimiter(lines: Sequence[str]) -> str:
    """The delimiter that splits ``lines`` into the most rows of one common width (> 1).

    Examples
    --------
    >>> sniff_delimiter(["成员活跃度统计 2026-11-01 至 2026-11-07", "日期;账号;活跃", "2026-11-01;a;是"])
    ';'
    """
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        widths: dict[int, int] = {}
        for row in csv.reader(lines, delimiter=delimiter):
            width = len(row)
            while width > 1 and not row[width - 1].strip():
                width -= 1  # trailing empty cells (Excel pads title rows)
            if width > 1:
                widths[width] = widths.get(width, 0) + 1
        if widths:
            width, count = max(widths.items(), key=lambda kv: (kv[1], kv[0]))
            score = count * 1000 + width
            if score > best_score:
                best, best_score = delimiter, score
    return best


Records = Iterator[tuple[int, list[object]]]  # (file line, cells) of every record, blank ones included


def open_text(path: Path) -> tuple[Records, str, str]:
    """The records of a text export, its encoding and its delimiter."""
    with path.open("rb") as stream:
        try:
            encoding, nul = _detect(stream)
            found = identify_encoding(_sample(stream)) if encoding == "gb18030" else None
        except ValueError:
            encoding, nul, found = "", False, identify_encoding(_sample(stream)) or NO_TEXT
            if found.lower().startswith("utf"):  # the detector reads past bad bytes; we do not
                found = NO_TEXT.replace("(a binary file?)", "(UTF text with bad bytes: cut short, or mixed encodings?)")
    if found is not None:
        name = "SOURCE-ENCODING" if found == NO_TEXT else found.split(" ", 1)[0].split("/", 1)[0].upper()
        raise fail(
            path,
            f"bytes in {found}" if found == NO_TEXT else f"text in {found}, not GB18030/GBK",
            "a text export in UTF-8, UTF-16 or GB18030 (GBK), or an XLSX workbook",
            _REEXPORT.format(name=name),
        )
    if nul:
        raise fail(path, "NUL characters", "a text export (the file looks binary or mixes encodings)", SAVE_AS)
    with path.open(encoding=encoding, newline="", errors="replace") as f:  # the records say where bytes are bad
        head = [f.readline() for _ in range(60)]
    hint = re.fullmatch(r'"?sep=(.)"?,*', head[0].strip().lower()) if head else None
    delimiter = hint.group(1) if hint else sniff_delimiter([line for line in head if line])
    return _text_records(path, encoding, delimiter, skip_first=hint is not None), encoding, delimiter


def _text_records(path: Path, encoding: str, delimiter: str, *, skip_first: bool) -> Records:
    with path.open(encoding=encoding, newline="") as f:
        first_line = 1
        if skip_first:
            f.readline()
            first_line = 2
        reader = csv.reader(f, delimiter=delimiter)
        previous = 0
        try:
            for record in reader:  # a record starts on the line after the previous one ended
                yield previous + first_line, cast("list[object]", record)
                previous = reader.line_num
        except csv.Error as exc:
            raise fail(
                path,
                str(exc),
                f"well-formed {encoding} CSV (line {previous + first_line})",
                "Check for an unclosed quote near that line.",
            ) from None
        except UnicodeDecodeError:
            raise fail(
                path,
                f"bytes that are not {encoding} after line {previous + first_line - 1}",
                f"a text export all in one encoding ({encoding})",
                SAVE_AS,
            ) from None


def open_xlsx(path: Path, sheet: str | None) -> tuple[Records, str, dt.datetime]:
    import openpyxl  # imported here: only workbooks need it

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except zipfile.BadZipFile:
        raise fail(
            path,
            "a damaged or incomplete ZIP archive",
            "a complete XLSX workbook",
            "The file was cut short (an interrupted download or copy?); export or download it again.",
        ) from None
    except Exception as exc:  # noqa: BLE001 - any failure inside a third-party parser is an input problem
        raise fail(
            path, f"{type(exc).__name__}: {exc}", "a readable XLSX workbook", "Export or download it again; " + SAVE_AS
        ) from None
    try:
        names = wb.sheetnames
        if sheet is not None and sheet not in names:
            raise fail(path, sheet, f"a sheet of this workbook: {', '.join(names)}", "Pass --sheet with one of them.")
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some exporters write a wrong sheet size; read every row
    except InputError:
        wb.close()
        raise
    except Exception as exc:  # noqa: BLE001 - read-only workbooks parse lazily
        wb.close()
        raise _damaged(path, exc) from None
    return _xlsx_records(path, wb, ws), ws.title, wb.epoch


def _damaged(path: Path, exc: Exception) -> InputError:
    return fail(
        path,
        f"{type(exc).__name__}: {exc}",
        "a complete, readable XLSX workbook",
        "The workbook is damaged or cut short; export or download it again.",
    )


def _xlsx_records(path: Path, wb: Any, ws: Any) -> Records:
    try:
        for number, values in enumerate(ws.iter_rows(values_only=True), 1):
            cells = list(values)
            if any_filled(cells):
                yield number, cells
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - read-only workbooks parse lazily, row by row
        raise _damaged(path, exc) from None
    finally:
        wb.close()
