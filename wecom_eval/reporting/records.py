"""What a report records for its exporters: JSON-ready values, KPI and target rows, parquet tables.

A KPI row (:func:`kpi_row`) is one entry of ``kpis.json``'s ``kpis`` or ``targets``; the
five targets' rows also make the scorecard table a report shows (:func:`target_table`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval import text
from wecom_eval.reporting.floor import SUPPRESSED_TEXT

TARGET_IDS: tuple[str, ...] = (
    "registration",
    "daily_active",
    "feature_penetration",
    "satisfaction",
    "pilot_efficiency",
)
VERDICTS: tuple[str, ...] = ("met", "not_yet_shown", "missed", "not_measured")
UNITS: tuple[str, ...] = ("share", "score", "relative_change", "hours", "count", "points", "ratio")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def check_name(name: str, kind: str) -> None:
    """A table, figure or KPI name must be snake_case (it names a sheet, a file, a JSON id)."""
    if not _NAME.match(name):
        raise ValueError(f"{kind} name {name!r} must be snake_case (a–z, 0–9, _; at most 63 characters)")


def jsonable_dict(value: Mapping[str, Any]) -> dict[str, Any]:
    """``value`` (a mapping) as a plain JSON object."""
    result: dict[str, Any] = jsonable(value)
    return result


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (NaN and NA become None; dates become ISO text)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) or math.isinf(float(value)) else float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def kpi_row(
    kpi: str,
    *,
    language: str,
    estimate: Any,
    unit: str,
    label: str | None,
    group: str | None,
    ci_low: Any,
    ci_high: Any,
    confidence: Any,
    target: Any,
    deadline: Any,
    verdict: Any,
    n: Any,
    method: Any,
    note: Any,
) -> dict[str, Any]:
    """One checked KPI entry of ``kpis.json`` (``label`` defaults to the KPI's name in ``language``)."""
    check_name(kpi, "KPI")
    if verdict is not None and verdict not in VERDICTS:
        raise ValueError(f"verdict {verdict!r} for {kpi!r} must be one of {VERDICTS} or None")
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r} for {kpi!r} must be one of {UNITS}")
    if label is None:
        label = text.lookup("targets", kpi, language) if kpi in TARGET_IDS else text.column_label(kpi, language)
    return jsonable_dict(
        {
            "id": kpi,
            "label": label,
            "group": group,
            "unit": unit,
            "estimate": estimate,
            "ci_low": ci_low,
            "ci_high": ci_high,
            "confidence": confidence if ci_low is not None or ci_high is not None else None,
            "target": target,
            "deadline": deadline,
            "verdict": verdict,
            "n": n,
            "method": method,
            "note": note,
        }
    )


def target_table(scorecard: pd.DataFrame, language: str) -> tuple[list[dict[str, Any]], pd.DataFrame, set[Any]]:
    """The scorecard's rows for ``kpis.json``, the table a report shows, and the confidence levels.

    Numbers stay numbers in the table (the workbook's cells are numeric); each row has its
    unit's format. A ``change`` column (from the previous period's end) is shown when present.
    """
    from wecom_eval.reporting.tables import CHANGE_FORMATS, UNIT_FORMATS, format_interval

    missing = [k for k in TARGET_IDS if k not in set(scorecard["kpi"])]
    if missing:
        raise ValueError(f"the scorecard lacks the targets {missing}; it needs one row for each of {TARGET_IDS}")
    records, rows, levels = [], [], set()
    for record in scorecard.to_dict("records"):
        fields = {
            k: jsonable(record.get(k))
            for k in ("estimate", "ci_low", "ci_high", "target", "deadline", "verdict", "n", "method", "note")
        }
        fields["unit"] = record.get("unit") or "share"
        confidence = jsonable(record.get("confidence")) or 0.95
        levels.add(confidence)
        row = kpi_row(str(record["kpi"]), language=language, group=None, label=None, confidence=confidence, **fields)
        basis = record.get("verdict_basis")
        row["verdict_basis"] = basis if isinstance(basis, str) and basis else "fixed_sample"
        records.append(row)
        change = (
            {
                "change": jsonable(record.get("change")),
                "change_format": CHANGE_FORMATS.get(row["unit"], "num2_signed"),
            }
            if "change" in scorecard.columns
            else {}
        )
        rows.append(
            {
                "kpi": row["id"],
                "target": row["target"],
                "deadline": row["deadline"] or SUPPRESSED_TEXT,
                "estimate": row["estimate"],
                "value_format": UNIT_FORMATS.get(row["unit"], "num1"),
                "interval": format_interval(row["ci_low"], row["ci_high"], row["unit"]),
                **change,
                "verdict": row["verdict"],
            }
        )
    return records, pd.DataFrame(rows), levels


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A shown table as parquet: object columns of numbers become numeric, mixed ones text."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_object_dtype(out[column]):
            kinds = {type(v) for v in out[column].dropna()}
            if kinds and all(
                issubclass(k, (int, float, np.number)) and not issubclass(k, (bool, np.bool_)) for k in kinds
            ):
                out[column] = pd.to_numeric(out[column])
                continue
            if len(kinds) > 1 or (kinds and not kinds <= {str, dt.date, bool}):
                out[column] = out[column].map(
                    lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                )
    out.columns = [str(c) for c in out.columns]
    out.to_parquet(path, index=False)


__all__ = [
    "TARGET_IDS",
    "UNITS",
    "VERDICTS",
    "check_name",
    "jsonable",
    "jsonable_dict",
    "kpi_row",
    "target_table",
    "write_parquet",
]
