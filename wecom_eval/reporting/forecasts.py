"""The forecast section: will each target be met by its deadline, and what does it take?

The numbers come from :func:`wecom_eval.kpis.forecast.forecast`; this module only words and
lays them out: one row per target for the table, one sentence per target, the record for
``kpis.json`` and the overlay drawn on the registration trend chart. Departments under the
privacy floor are never shown.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from wecom_eval import text
from wecom_eval.kpis import forecast as fc
from wecom_eval.kpis import forecast_model as fm
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.tables import format_kpi_value

FORMATS = {
    "now": "pct",
    "at_deadline": "pct",
    "pi_low": "pct",
    "pi_high": "pct",
    "target": "pct",
    "naive_at_deadline": "pct",
}


def _v(report: Report, key: str, **fields: object) -> str:
    return text.lookup("views", key, report.language, **fields)


def compute(report: Report, *, draws: int = 2000) -> pd.DataFrame:
    """Every forecast of the report's day (company and departments), departments under the floor dropped."""
    params: Any = report.params
    frame = fc.forecast(
        report.warehouse,
        report.plan,
        as_of=report.data_through + dt.timedelta(days=1),
        draws=draws,
        seed=int(getattr(params, "seed", 0)),
        cal=report.calendar,
    )
    if not len(frame) or "weight" not in frame:  # no forecast made (every row says why): nothing to protect
        return frame
    company = frame["department_id"].isna()
    return frame.loc[company | (frame["weight"].fillna(0) >= report.floor)].reset_index(drop=True)


def _date_text(day: Any, language: str) -> str:
    if day is None or (isinstance(day, float) and math.isnan(day)) or pd.isna(day):
        return "—"
    d = pd.Timestamp(day).date()
    return f"{d.month}月{d.day}日" if language == "zh" else d.strftime("%d %b %Y").lstrip("0")


def needed_text(report: Report, rec: dict[str, Any]) -> str:
    """What it takes, in the target's own terms: people a week for registration, points a week otherwise."""
    need = rec.get("needed_per_week")
    if need is None or pd.isna(need):
        return "—"
    if need <= 0:
        return _v(report, "forecast_need_none")
    if rec["target_id"] == "registration":
        return _v(report, "forecast_need_people", n=math.ceil(float(need) * float(rec["weight"]) - 1e-9))
    return _v(report, "forecast_need_points", x=f"{float(need) * 100:.1f}")


def _company(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One company row per target. The penetration target shows its feature with the lowest
    projection, or, when none could be made (past the deadline, too little history), its feature
    with the lowest latest value: the weakest feature, as its verdict takes it."""
    if not len(frame):
        return []
    company = frame.loc[frame["department_id"].isna()]
    rows = []
    for target_id in fm.TARGETS:
        part = company.loc[company["target_id"] == target_id]
        if not len(part):
            continue
        made = part.dropna(subset=["at_deadline"]) if "at_deadline" in part else part.iloc[:0]
        chosen = made.sort_values("at_deadline") if len(made) else part.sort_values("now", na_position="last")
        rows.append({str(k): v for k, v in chosen.iloc[0].items()})
    return rows


def table(report: Report, frame: pd.DataFrame) -> pd.DataFrame:
    """The company forecast of each target: ``kpi``, ``deadline``, ``target``, ``now``, ``at_deadline``,
    ``forecast_interval`` (text), ``reach_date`` (text), ``needed`` (text), ``naive_at_deadline``, ``note``.
    Show with ``formats=forecasts.FORMATS``."""
    rows = []
    for rec in _company(frame):
        kpi = text.lookup("targets", rec["target_id"], report.language)
        feature = rec.get("feature")
        made = rec.get("reason") is None or pd.isna(rec.get("reason"))
        known = made or not pd.isna(rec.get("now"))
        if isinstance(feature, str) and known:  # the weakest feature (projected, else now)
            kpi = (
                f"{kpi}（{text.lookup('features', feature, report.language)}）"
                if report.language == "zh"
                else f"{kpi} ({text.lookup('features', feature, report.language)})"
            )
        rows.append(
            {
                "kpi": kpi,
                "deadline": rec["deadline"],
                "target": rec["target"],
                "now": rec.get("now"),
                "at_deadline": rec.get("at_deadline") if made else None,
                "forecast_interval": (
                    f"{format_kpi_value(rec['pi_low'], 'share')} – {format_kpi_value(rec['pi_high'], 'share')}"
                    if made
                    else "—"
                ),
                "reach_date": (_date_text(rec.get("reach_date"), report.language) if made else "—"),
                "needed": needed_text(report, rec) if made else "—",
                "naive_at_deadline": rec.get("naive_at_deadline") if made else None,
                "note": None if made else reason_text(report, rec),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "kpi",
            "deadline",
            "target",
            "now",
            "at_deadline",
            "forecast_interval",
            "reach_date",
            "needed",
            "naive_at_deadline",
            "note",
        ],
    )


def reason_text(report: Report, rec: dict[str, Any]) -> str:
    """Why a target has no forecast, in the report's language (the English reason for unknown codes)."""
    code = rec.get("reason_code")
    if not isinstance(code, str):
        return str(rec["reason"])
    return text.lookup(
        "reasons",
        f"forecast_{code}",
        report.language,
        deadline=_date_text(rec["deadline"], report.language),
        weeks=int(rec.get("weeks") or 0),
        needed=fm.MIN_WEEKS,
    )


def sentences(report: Report, frame: pd.DataFrame) -> str:
    """One markdown bullet per target: where it will be at the deadline, when it gets there, what it takes."""
    lines = []
    for rec in _company(frame):
        kpi = text.lookup("targets", rec["target_id"], report.language)
        if rec.get("reason") is not None and not pd.isna(rec.get("reason")):
            lines.append("- " + _v(report, "forecast_none", kpi=kpi, reason=reason_text(report, rec)))
            continue
        if rec["now"] >= rec["target"]:
            reach = _v(report, "forecast_reached")
        elif rec.get("reach_date") is None or pd.isna(rec.get("reach_date")):
            reach = _v(report, "forecast_never", days=fm.HORIZON_DAYS)
        else:
            reach = _v(report, "forecast_reach", date=_date_text(rec["reach_date"], report.language))
        lines.append(
            "- "
            + _v(
                report,
                "forecast_item",
                kpi=kpi,
                deadline=_date_text(rec["deadline"], report.language),
                at=format_kpi_value(rec["at_deadline"], "share"),
                p=f"{rec['level']:.0%}",
                low=format_kpi_value(rec["pi_low"], "share"),
                high=format_kpi_value(rec["pi_high"], "share"),
                target=format_kpi_value(rec["target"], "share"),
                reach=reach,
                need=needed_text(report, rec),
            )
        )
    return "\n".join(lines)


def record(report: Report, frame: pd.DataFrame) -> None:
    """Put each target's forecast into ``kpis.json`` (``forecast`` and ``forecast_note``)."""
    found = fc.target_forecasts(frame)
    report.record_forecasts(found)


def overlay(report: Report, frame: pd.DataFrame, target_id: str) -> dict[str, float] | None:
    """The company forecast of one target as the trend chart draws it: from the last week's figure
    (``x0``, ``y0``) to the deadline (``x1`` in weeks, ``y1``, ``low``, ``high``), with its label."""
    rows = [r for r in _company(frame) if r["target_id"] == target_id]
    if not rows or rows[0].get("at_deadline") is None or pd.isna(rows[0].get("at_deadline")):
        return None
    rec = rows[0]
    day = (rec["deadline"] - report.plan.start_date).days + 1
    last = (report.data_through - report.plan.start_date).days + 1
    return {
        "x0": last / 7,
        "y0": float(rec["now"]),
        "x1": day / 7,
        "y1": float(rec["at_deadline"]),
        "low": float(rec["pi_low"]),
        "high": float(rec["pi_high"]),
        "level": float(rec["level"]),
    }


__all__ = ["FORMATS", "compute", "needed_text", "overlay", "record", "sentences", "table"]
