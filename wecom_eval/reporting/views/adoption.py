"""The views of the five targets, registration, activity, features, alerts, points, support, reconciliation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wecom_eval import kpis, text
from wecom_eval.kpis import targets as five
from wecom_eval.reporting import figures, trends
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.tables import format_kpi_value
from wecom_eval.reporting.views._common import (
    hide_blank_rows,
    not_measured,
    path_at,
    trend_start,
    v,
)


def targets(report: Report, **options: Any) -> pd.DataFrame:
    """The scorecard (:func:`wecom_eval.kpis.targets.five_targets`) as of the end of the report's
    own period (a monthly review's month, a weekly report's week), so that its scorecard and its
    alerts describe the same days. Every report but a ``read_once`` one recurs. A report about a
    month also has the ``change`` from the previous month's end
    (:func:`wecom_eval.kpis.targets.with_change`)."""
    params: Any = report.params
    wave = params.wave if hasattr(params, "wave") else ""
    if "wave" not in options and wave:
        options["wave"] = wave
    if "inference" not in options and hasattr(params, "inference"):
        options["inference"] = params.inference
    options.setdefault("recurring", not report.spec.read_once)
    frame = five.five_targets(
        report.warehouse,
        report.plan,
        data_through=report.period.end,
        n_boot=report.params.n_boot,
        seed=report.params.seed,
        language=report.language,
        **options,
    )
    if report.spec.period == "month":
        frame = five.with_change(
            frame,
            report.warehouse,
            report.plan,
            since=report.period.start - dt.timedelta(days=1),
            language=report.language,
        )
    return frame


def headline(report: Report, scorecard: pd.DataFrame) -> str:
    """One bullet per target: verdict, estimate now, target (markdown)."""
    lines = []
    for rec in scorecard.to_dict("records"):
        unit = rec.get("unit") or "share"
        estimate = None if rec["estimate"] is None or pd.isna(rec["estimate"]) else float(rec["estimate"])
        line = "- " + v(
            report,
            "headline_item",
            kpi=text.lookup("targets", rec["kpi"], report.language),
            verdict=text.verdict_label(rec["verdict"], report.language),
            estimate=format_kpi_value(estimate, unit),
            target=format_kpi_value(float(rec["target"]), unit),
        )
        note = rec.get("note")
        if rec["verdict"] == "not_measured" and isinstance(note, str) and note:  # say why, and the fix
            line += ("：" if report.language == "zh" else ": ") + note
        lines.append(line)
    return "\n".join(lines)


def registration_trend_figure(report: Report, *, weeks: int = 12, forecast: dict[str, float] | None = None) -> Figure:
    """Company registration at each week's end with the target path, and the forecast to the deadline
    when given (:func:`wecom_eval.reporting.forecasts.overlay`)."""
    start = trend_start(report, weeks)
    trend = kpis.registration_trend(report.warehouse, report.plan, start=start, end=report.period.end, by="company")
    trend = trend.dropna(subset=["registration_rate"])
    path = pd.DataFrame(
        {
            "week": trend["week"].to_numpy(),
            "target": path_at(report, "registration", list(trend["data_through"])).to_numpy(),
        }
    )
    band = v(report, "forecast_band", p=f"{forecast['level']:.0%}") if forecast else ""
    if forecast:  # the path runs on to the deadline the forecast aims at
        deadline = kpis.paths.path_deadline(report.plan, "registration")
        path = pd.concat(
            [
                path,
                pd.DataFrame(
                    {"week": [forecast["x1"]], "target": [kpis.path_value(report.plan, "registration", deadline)]}
                ),
            ],
            ignore_index=True,
        )
    return trends.trend_chart(
        trend.astype({"week": int}),
        x="week",
        y="registration_rate",
        target=path,
        title=v(report, "registration_trend"),
        xlabel=v(report, "rollout_week"),
        target_label=v(report, "target_path"),
        label=v(report, "actual"),
        forecast=forecast,
        forecast_label=band,
        language=report.language,
        empty_text=v(report, "chart_not_measured"),
    )


def registration_basis_note(report: Report, day: dt.date | None = None) -> str:
    """One line: on which bound the registration figure of ``day`` (default the period's end) rests."""
    day = day or report.period.end
    row = kpis.registration_basis(report.warehouse, report.plan, data_through=day).iloc[0]
    if not row["registered"] and not row["activated_unknown"]:
        return ""
    counts = {k: int(row[k]) for k in ("registered", "export_time", "snapshot", "first_activity")}
    note = v(report, "registration_basis", day=day.isoformat(), **counts)
    if row["activated_unknown"]:
        note += " " + v(report, "registration_unknown", count=int(row["activated_unknown"]), day=day.isoformat())
    return note


def _wilson(rate: pd.Series, n: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    from wecom_eval.stats.targets import wilson_bounds

    lows, highs = [], []
    for r, m in zip(rate, n, strict=True):
        if r is None or pd.isna(r) or m is None or pd.isna(m) or m < 1:
            lows.append(np.nan)
            highs.append(np.nan)
            continue
        size = int(round(float(m)))
        lo, hi = wilson_bounds(int(round(float(r) * size)), size, 0.05)
        lows.append(lo)
        highs.append(hi)
    return np.array(lows), np.array(highs)


def activity_trend(report: Report, *, weeks: int = 12) -> pd.DataFrame:
    """Company weekly active and engaged rates with their intervals (long: one row per week and rate;
    ``measure`` is ``active_rate`` or ``engaged_rate``, ``series`` its label)."""
    start = trend_start(report, weeks)
    weekly = kpis.weekly_activity(report.warehouse, report.plan, start=start, end=report.period.end, by="company")
    weekly = weekly.loc[weekly["working_days"] > 0]
    minutes = report.plan.targets.daily_active.min_daily_minutes
    parts = []
    for rate, n, label in (
        ("active_rate", "registered_mean", v(report, "active_rate")),
        ("engaged_rate", "measured_mean", v(report, "engaged_rate", minutes=minutes)),
    ):
        lo, hi = _wilson(weekly[rate], weekly[n])
        parts.append(
            pd.DataFrame(
                {
                    "week": weekly["week"].astype(int).to_numpy(),
                    "measure": rate,
                    "series": label,
                    "rate": weekly[rate].astype(float).to_numpy(),
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def activity_trend_figure(report: Report, *, weeks: int = 12, measure: str = "engaged_rate") -> Figure:
    """One measure per chart: the weekly engaged rate (the daily-active target's measure) with its
    interval and target path, or (``measure="active_rate"``) the weekly active rate, which has no
    target of its own and so no path."""
    if measure not in ("engaged_rate", "active_rate"):
        raise ValueError(f"measure must be 'engaged_rate' or 'active_rate', got {measure!r}")
    data = activity_trend(report, weeks=weeks)
    data = data.loc[data["measure"] == measure]
    path = None
    if measure == "engaged_rate":
        week_ends = [report.plan.week_start(int(w)) + dt.timedelta(days=6) for w in sorted(data["week"].unique())]
        path = pd.DataFrame(
            {"week": sorted(data["week"].unique()), "target": path_at(report, "engaged_rate", week_ends).to_numpy()}
        )
    minutes = report.plan.targets.daily_active.min_daily_minutes
    return trends.trend_chart(
        data,
        x="week",
        y="rate",
        low="ci_low",
        high="ci_high",
        target=path,
        title=v(report, f"{measure}_trend", minutes=minutes),
        xlabel=v(report, "rollout_week"),
        label=v(report, "actual"),
        target_label=v(report, "target_path"),
        language=report.language,
        empty_text=v(report, "chart_not_measured"),
    )


def department_status(report: Report, kpi: str) -> pd.DataFrame:
    """Each department against its path and target for ``kpi`` (registration, active_rate, engaged_rate).

    Columns: ``department``, ``n`` (people), ``estimate``, ``ci_low``, ``ci_high``,
    ``path_value``, ``gap_to_path``, ``path_verdict``, ``verdict``. Show with
    ``people="n"`` and ``formats=views.SHARE``.
    """
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="department")
    rows = not_measured(sc.loc[sc["kpi"] == kpi].copy(), "n")
    rows = hide_blank_rows(rows, "n", ["department", "department_id"])
    rows = rows.sort_values("gap_to_path", na_position="last")
    columns = [
        "department",
        "n",
        "estimate",
        "ci_low",
        "ci_high",
        "path_value",
        "gap_to_path",
        "path_verdict",
        "verdict",
    ]
    if kpi == "registration":  # a census count of the roster: exact, no interval
        columns = [c for c in columns if c not in ("ci_low", "ci_high")]
    return rows[columns].reset_index(drop=True)


def activity_by_department(report: Report) -> tuple[pd.DataFrame, str]:
    """The report week's active, engaged and weekly-active rates by department, and a note.

    The note names the departments whose engaged rate is not measured (no minutes).
    """
    weekly = kpis.weekly_activity(
        report.warehouse, report.plan, start=report.period.start, end=report.period.end, by="department"
    )
    weekly = weekly.loc[weekly["week"] == weekly["week"].max()]
    unmeasured = (
        weekly.loc[~weekly["engaged_measured"].fillna(True).astype(bool) & weekly["active_rate"].notna(), "department"]
        .astype(str)
        .tolist()
    )
    note = (
        v(
            report,
            "not_measured_departments",
            names="、".join(unmeasured) if report.language == "zh" else ", ".join(unmeasured),
        )
        if unmeasured
        else ""
    )
    out = weekly[
        ["department", "registered_week", "active_rate", "engaged_rate", "weekly_active_rate", "suppressed"]
    ].rename(columns={"registered_week": "registered"})
    return out.sort_values("active_rate", na_position="last").reset_index(drop=True), note


def feature_status(report: Report) -> pd.DataFrame:
    """Company penetration per core feature with interval, path, target and verdict."""
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="company")
    rows = not_measured(sc.loc[sc["kpi"] == "feature_penetration"].copy(), "n")
    return rows[
        ["feature", "n", "estimate", "ci_low", "ci_high", "path_value", "target", "path_verdict", "verdict"]
    ].reset_index(drop=True)


def feature_figure(report: Report, status: pd.DataFrame) -> Figure:
    labelled = status.assign(label=status["feature"].map(lambda f: text.lookup("features", f, report.language)))
    days = report.plan.targets.feature_penetration.window_days
    return figures.estimate_chart(
        labelled,
        label="label",
        estimate="estimate",
        low="ci_low",
        high="ci_high",
        target=report.plan.targets.feature_penetration.target,
        verdict="verdict",
        title=v(report, "penetration_by_feature", days=days),
        target_label=v(report, "target_line"),
        language=report.language,
        verdict_labels={
            k: text.verdict_label(k, report.language) for k in ("met", "not_yet_shown", "missed", "not_measured")
        },
        empty_text=v(report, "chart_not_measured"),
    )


def feature_gaps(report: Report) -> pd.DataFrame:
    """Departments × features behind the target path (long), largest gap first."""
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="department")
    rows = sc.loc[(sc["kpi"] == "feature_penetration") & sc["estimate"].notna()]
    rows = rows.loc[rows["gap_to_path"] < 0].sort_values("gap_to_path")
    return rows[["department", "feature", "n", "estimate", "path_value", "gap_to_path", "verdict"]].reset_index(
        drop=True
    )


def alert_table(report: Report, *, limit: int = 20) -> pd.DataFrame:
    """The most urgent alerts as of the period's end (what, where, by how much, since when)."""
    language: Any = report.language
    report.define("alerts")
    found = kpis.alerts(report.warehouse, report.plan, data_through=report.period.end, language=language)
    found = found.head(limit)
    return found.rename(columns={"group": "subject", "since_week": "since"})[
        ["kind", "severity", "subject", "message", "gap", "since", "p_value", "p_adjusted"]
    ].reset_index(drop=True)


def points_table(report: Report) -> pd.DataFrame:
    """Points per department in the report's week: employees, earners, points, points per employee."""
    report.define("points")
    pts = kpis.points_by_department(report.warehouse, report.plan, start=report.period.start, end=report.period.end)
    return (
        pts[["department", "employees", "earners", "points", "points_per_employee", "suppressed"]]
        .sort_values("points_per_employee", ascending=False, na_position="last")
        .reset_index(drop=True)
    )


def support_table(report: Report, *, weeks: int = 12) -> pd.DataFrame:
    """IT-support service levels by week (empty when no tickets are loaded)."""
    start = trend_start(report, weeks)
    out = kpis.it_support(report.warehouse, report.plan, start=start, end=report.period.end)
    if not out.empty:
        report.define("support")
    if out.empty:
        return out
    return out[["week", "tickets", "answered_share", "resolved_share", "suppressed"]].rename(
        columns={"answered_share": "answered_1h", "resolved_share": "resolved_4h"}
    )


def reconciliation(report: Report) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Roster against WeCom members: counts per check, and counts by department (no names)."""
    result = kpis.reconcile(report.warehouse, report.plan, data_through=report.period.end)
    summary = result.summary.rename(columns={"check": "kind", "description": "message"})
    if report.language == "zh":
        summary["message"] = summary["kind"].map(lambda k: text.lookup("checks", k, "zh"))
    by_dep = result.by_department[
        ["department", "employees", "members", "employees_without_member", "department_mismatch", "suppressed"]
    ]
    return summary[["kind", "count", "message"]], by_dep


__all__ = [
    "activity_by_department",
    "activity_trend",
    "activity_trend_figure",
    "alert_table",
    "department_status",
    "feature_figure",
    "feature_gaps",
    "feature_status",
    "headline",
    "points_table",
    "reconciliation",
    "registration_basis_note",
    "registration_trend_figure",
    "support_table",
    "targets",
]
