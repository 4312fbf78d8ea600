"""Report text in Chinese and English, from ``strings.yaml`` beside this module.

Everything a reader sees that the notebook does not write itself — report titles, the
header and footer, verdict words, KPI definitions, table headings — comes from here, so
that ``language: en`` turns a whole report into English.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from wecom_eval.yamlfile import load_packaged

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
STRINGS_PATH = Path(__file__).with_name("strings.yaml")


@lru_cache(maxsize=1)
def strings() -> dict[str, dict[str, dict[str, Any]]]:
    """The whole string table (read once)."""
    data: dict[str, dict[str, dict[str, Any]]] = load_packaged(STRINGS_PATH.read_text(encoding="utf-8"))
    return data


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")


def lookup(group: str, key: str, language: str, **fields: object) -> str:
    """The ``language`` text of ``key`` in ``group`` (``text``, ``verdicts``, ``targets`` …).

    A key the table does not hold is returned unchanged, so a new department or column
    name still shows rather than failing a report.

    Examples
    --------
    >>> lookup("verdicts", "not_yet_shown", "en")
    'not yet shown'
    >>> lookup("text", "week_n", "zh", n=3)
    '第3周'
    """
    _check_language(language)
    entry = strings().get(group, {}).get(key)
    if entry is None:
        return key
    value = str(entry.get(language, entry.get("zh", key)))
    return value.format(**fields) if fields else value


def t(key: str, language: str, **fields: object) -> str:
    """Shorthand for ``lookup("text", key, language, **fields)``."""
    return lookup("text", key, language, **fields)


def verdict_label(verdict: str | None, language: str) -> str:
    return "" if verdict is None else lookup("verdicts", verdict, language)


def column_label(column: str, language: str) -> str:
    return lookup("columns", column, language)


def column_format(column: str) -> str | None:
    """The display format of a column (``pct``, ``int``, ``num2`` …) or None."""
    entry = strings()["columns"].get(column)
    return None if entry is None else entry.get("fmt")


def definition(kpi: str, language: str, **fields: object) -> str:
    """The KPI definition (markdown) printed at the end of reports."""
    return lookup("definitions", kpi, language, **fields)


def definition_keys() -> list[str]:
    return list(strings()["definitions"])


__all__ = [
    "LANGUAGES",
    "Language",
    "column_format",
    "column_label",
    "definition",
    "definition_keys",
    "lookup",
    "t",
    "verdict_label",
]
