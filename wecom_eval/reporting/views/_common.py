"""What the view modules share: the report's strings, shared formats, weeks and blank rows."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from wecom_eval import kpis, text
from wecom_eval.reporting import safe_text
from wecom_eval.reporting.collect import Report

SHARE = {
    "estimate": "pct",
    "ci_low": "pct",
    "ci_high": "pct",
    "path_value": "pct",
    "gap_to_path": "pp_signed",
    "target": "pct",
}


def v(report: Report, key: str, **fields: object) -> str:
    """A string of the ``views`` group in the report's language (markdown for ``report.note``).

    Text fields (department names …) come from data: :func:`.safe_text.note_field` keeps them
    from adding emphasis of their own.
    """
    return text.lookup(
        "views",
        key,
        report.language,
        **{k: safe_text.note_field(f) if isinstance(f, str) else f for k, f in fields.items()},
    )


def p_text(p: float) -> str:
    """A p-value as people read it: ``p = 0.043``, ``p < 0.001``.

    >>> p_text(0.0431), p_text(1e-6)
    ('p = 0.043', 'p < 0.001')
    """
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def title(report: Report, key: str, **fields: object) -> str:
    """A table title (``titles`` group) in the report's language."""
    return text.lookup("titles", key, report.language, **fields)


def week_of(report: Report, day: dt.date) -> int:
    return (day - report.plan.start_date).days // 7 + 1


def trend_start(report: Report, weeks: int) -> dt.date:
    last_week = max(1, week_of(report, report.period.end))
    return report.plan.week_start(max(1, last_week - weeks + 1))


def not_measured(frame: pd.DataFrame, people: str) -> pd.DataFrame:
    """Rows without an estimate that privacy did not hide say "not measured": no count, no 0."""
    unmeasured = frame["estimate"].isna() & ~frame["note"].fillna("").astype(str).str.startswith("hidden")
    frame[people] = frame[people].astype(float).where(~unmeasured)
    frame["verdict"] = frame["verdict"].astype(object).where(~unmeasured, "not_measured")
    return frame


def hide_blank_rows(frame: pd.DataFrame, people: str, keys: list[str]) -> pd.DataFrame:
    """Rows a KPI function hid (no estimate) keep only their keys: no count, no path value."""
    out = frame.copy()
    hidden = out["estimate"].isna() & out["note"].fillna("").str.startswith("hidden")
    for column in out.columns:
        if column not in keys and hidden.any():
            numeric = pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column])
            out[column] = (
                out[column].astype(float).where(~hidden) if numeric else out[column].astype(object).where(~hidden, None)
            )
    if people in out:
        out[people] = pd.to_numeric(out[people], errors="coerce")
    return out


def path_at(report: Report, kpi: str, days: list[dt.date]) -> pd.Series:
    return pd.Series([kpis.path_value(report.plan, kpi, d) for d in days])


__all__ = [
    "SHARE",
    "hide_blank_rows",
    "not_measured",
    "p_text",
    "path_at",
    "title",
    "trend_start",
    "v",
    "week_of",
]
