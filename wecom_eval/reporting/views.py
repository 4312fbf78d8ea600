"""What the report notebooks show, section by section: frames, figures and sentences.

Each function takes the open :class:`~wecom_eval.reporting.collect.Report` and returns what
one section of a notebook displays — a tidy frame for ``report.show_table``, a figure for
``report.show_figure``, or a markdown sentence for ``report.note`` — computed by the KPI
(:mod:`wecom_eval.kpis`) and statistics (:mod:`wecom_eval.stats`) packages. What two
notebooks share lives here, so the notebooks stay a heading, a sentence and a call or two.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from wecom_eval import kpis, text
from wecom_eval.kpis import efficiency, satisfaction
from wecom_eval.kpis import targets as five
from wecom_eval.reporting import figures, safe_text
from wecom_eval.reporting.collect import Report
from wecom_eval.reporting.tables import format_kpi_value

SHARE = {
    "estimate": "pct",
    "ci_low": "pct",
    "ci_high": "pct",
    "path_value": "pct",
    "gap_to_path": "pct_signed",
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


def _week_of(report: Report, day: dt.date) -> int:
    return (day - report.plan.start_date).days // 7 + 1


def _trend_start(report: Report, weeks: int) -> dt.date:
    last_week = max(1, _week_of(report, report.period.end))
    return report.plan.week_start(max(1, last_week - weeks + 1))


def _not_measured(frame: pd.DataFrame, people: str) -> pd.DataFrame:
    """Rows without an estimate that privacy did not hide say "not measured": no count, no 0."""
    unmeasured = frame["estimate"].isna() & ~frame["note"].fillna("").astype(str).str.startswith("hidden")
    frame[people] = frame[people].astype(float).where(~unmeasured)
    frame["verdict"] = frame["verdict"].astype(object).where(~unmeasured, "not_measured")
    return frame


def _hide_blank_rows(frame: pd.DataFrame, people: str, keys: list[str]) -> pd.DataFrame:
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


# ---- the five targets ----------------------------------------------------------------------


# reports read once, at their phase's end: their efficiency verdict keeps the one-off level
READ_ONCE = frozenset({"deepening-review"})


def targets(report: Report, **options: Any) -> pd.DataFrame:
    """The scorecard (:func:`wecom_eval.kpis.targets.five_targets`) as of the end of the report's
    own period (a monthly review's month, a weekly report's week), so that its scorecard and its
    alerts describe the same days. Every report but those in :data:`READ_ONCE` recurs. The
    monthly review's scorecard also has the ``change`` from the previous month's end
    (:func:`wecom_eval.kpis.targets.with_change`)."""
    params: Any = report.params
    wave = params.wave if hasattr(params, "wave") else ""
    if "wave" not in options and wave:
        options["wave"] = wave
    if "inference" not in options and hasattr(params, "inference"):
        options["inference"] = params.inference
    options.setdefault("recurring", report.name not in READ_ONCE)
    frame = five.five_targets(
        report.warehouse,
        report.plan,
        last_day=report.period.end,
        n_boot=report.params.n_boot,
        seed=report.params.seed,
        language=report.language,
        **options,
    )
    if report.name == "monthly":
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


# ---- registration and activity -------------------------------------------------------------


def _path_at(report: Report, kpi: str, days: list[dt.date]) -> pd.Series:
    return pd.Series([kpis.path_value(report.plan, kpi, d) for d in days])


def registration_trend_figure(report: Report, *, weeks: int = 12, forecast: dict[str, float] | None = None) -> Figure:
    """Company registration at each week's end with the target path, and the forecast to the deadline
    when given (:func:`wecom_eval.reporting.forecasts.overlay`)."""
    start = _trend_start(report, weeks)
    trend = kpis.registration_trend(report.warehouse, report.plan, start=start, end=report.period.end, by="company")
    trend = trend.dropna(subset=["registration_rate"])
    path = pd.DataFrame(
        {"week": trend["week"].to_numpy(), "target": _path_at(report, "registration", list(trend["as_of"])).to_numpy()}
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
    return figures.trend_chart(
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
    row = kpis.registration_basis(report.warehouse, report.plan, as_of=day).iloc[0]
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
    start = _trend_start(report, weeks)
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
            {"week": sorted(data["week"].unique()), "target": _path_at(report, "engaged_rate", week_ends).to_numpy()}
        )
    minutes = report.plan.targets.daily_active.min_daily_minutes
    return figures.trend_chart(
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
    rows = _not_measured(sc.loc[sc["kpi"] == kpi].copy(), "n")
    rows = _hide_blank_rows(rows, "n", ["department", "department_id"])
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


# ---- features ------------------------------------------------------------------------------


def feature_status(report: Report) -> pd.DataFrame:
    """Company penetration per core feature with interval, path, target and verdict."""
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="company")
    rows = _not_measured(sc.loc[sc["kpi"] == "feature_penetration"].copy(), "n")
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


# ---- alerts, points, support ---------------------------------------------------------------


def alert_table(report: Report, *, limit: int = 20) -> pd.DataFrame:
    """The most urgent alerts as of the period's end (what, where, by how much, since when)."""
    language: Any = report.language
    report.define("alerts")
    found = kpis.alerts(report.warehouse, report.plan, as_of=report.period.end, language=language)
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
    start = _trend_start(report, weeks)
    out = kpis.it_support(report.warehouse, report.plan, start=start, end=report.period.end)
    if not out.empty:
        report.define("support")
    if out.empty:
        return out
    return out[["week", "tickets", "answered_share", "resolved_share", "suppressed"]].rename(
        columns={"answered_share": "answered_1h", "resolved_share": "resolved_4h"}
    )


# ---- launch review -------------------------------------------------------------------------


def reconciliation(report: Report) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Roster against WeCom members: counts per check, and counts by department (no names)."""
    result = kpis.reconcile(report.warehouse, report.plan, as_of=report.period.end)
    summary = result.summary.rename(columns={"check": "kind", "description": "message"})
    if report.language == "zh":
        summary["message"] = summary["kind"].map(lambda k: text.lookup("checks", k, "zh"))
    by_dep = result.by_department[
        ["department", "employees", "members", "employees_without_member", "department_mismatch", "suppressed"]
    ]
    return summary[["kind", "count", "message"]], by_dep


def needs(report: Report) -> list[tuple[str, pd.DataFrame, int]]:
    """Each needs-survey question: its title, the choices (count, share) and respondents."""
    wave = satisfaction.latest_wave(report.warehouse, last_day=report.period.end, kind="needs")
    if wave is None:
        return []
    chosen = satisfaction.choices(report.warehouse, wave)
    n = satisfaction.roster_share(report.warehouse, wave)["respondents"]
    return [
        (str(q), part[["choice", "count", "share"]].reset_index(drop=True), n)
        for q, part in chosen.groupby("question", sort=False)
    ]


def needs_figure(report: Report, question: str, frame: pd.DataFrame, n: int) -> Figure:
    return figures.bar_chart(
        frame, label="choice", value="share", title=v(report, "needs_question", question=question, n=f"{n:,}")
    )


def pilot_status(report: Report) -> pd.DataFrame:
    """The pilot departments on registration and the daily rates, against their paths.

    Pilots go live on the rollout's first day, so their paths start there (``align="start"``).
    """
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="department", align="start")
    deps = report.warehouse.query("SELECT department_id, path FROM departments")
    pilots = report.plan.resolve_pilots(deps.itertuples(index=False, name=None))
    rows = sc.loc[sc["department_id"].isin(pilots) & sc["kpi"].isin(["registration", "active_rate", "engaged_rate"])]
    rows = _not_measured(rows.copy(), "n")  # no count and no path verdict for a figure not measured
    rows["path_verdict"] = rows["path_verdict"].astype(object).where(rows["verdict"] != "not_measured", "not_measured")
    rows = _hide_blank_rows(rows, "n", ["department", "department_id", "kpi"])
    return rows[["department", "kpi", "n", "estimate", "ci_low", "ci_high", "path_value", "path_verdict"]].reset_index(
        drop=True
    )


#: The longest after-period the launch review searches for 80 % probability of "met".
MAX_WEEKS = 26


def power(report: Report) -> tuple[Any, str, Figure | None]:
    """Power and minimum detectable effect of the planned pilot comparison, a sentence and the curve.

    Uses the baseline approvals (before the rollout) for the variance components, the
    departments with baseline approvals, their staff, and the launch weeks as the after
    period.
    """
    from wecom_eval import stats

    params: Any = report.params  # LaunchReviewParams
    records = efficiency.turnaround_records(report.warehouse, report.plan, end=report.period.end)
    base = records.loc[records["week"] < 1]
    try:
        comps = stats.variance_components(base, outcome="hours", department="department_id", week="week")
    except ValueError:  # too little baseline data: say so instead of failing the report
        return None, v(report, "power_not_estimable", reason=_why_not(report, base)), None
    per_dep = base.groupby("department_id").agg(records=("record_id", "size"), pilot=("is_pilot", "max"))
    staff = report.warehouse.query("SELECT department_id, count(*) AS staff FROM employees GROUP BY 1").set_index(
        "department_id"
    )["staff"]
    per_dep = per_dep.join(staff, how="left").fillna({"staff": 1})
    weeks_pre = max(1, int(base["week"].nunique()))
    weeks_post = max(1, int(report.plan.phase("launch").last_week))
    rate = float(per_dep["records"].sum() / per_dep["staff"].sum() / weeks_pre)
    pilots = [i for i, p in enumerate(per_dep["pilot"]) if p]
    result = stats.did_power(
        n_departments=len(per_dep),
        n_treated=len(pilots),
        staff=per_dep["staff"].astype(int).tolist(),
        approvals_per_staff_week=rate,
        weeks_pre=weeks_pre,
        weeks_post=weeks_post,
        components=comps,
        effect=params.assumed_gain,
        pilots=pilots,
        n_sim=params.power_simulations,
        seed=params.seed,
        target=report.plan.targets.pilot_efficiency.target,
        max_weeks=MAX_WEEKS,
    )
    sentence = v(
        report,
        "power_sentence",
        departments=result.n_departments,
        treated=result.n_treated,
        pre=weeks_pre,
        post=weeks_post,
        effect=result.effect,
        power=result.estimate,
        n_sim=result.n_sim,
        mde=result.mde,
        inference=text.lookup("methods", result.inference, report.language),
    )
    curve = result.curve
    effect_col = "effect" if "effect" in curve else curve.columns[0]
    power_col = "power" if "power" in curve else curve.columns[1]
    fig = figures.trend_chart(
        curve.assign(target=0.8),
        x=effect_col,
        y=power_col,
        low="ci_low" if "ci_low" in curve else None,
        high="ci_high" if "ci_high" in curve else None,
        target=pd.DataFrame({effect_col: curve[effect_col], "target": 0.8}),
        title=v(report, "power_curve"),
        xlabel=v(report, "efficiency_gain"),
        ylabel=v(report, "power"),
        target_label="80%",
    )
    from matplotlib.ticker import PercentFormatter

    fig.axes[0].xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    return result, sentence, fig


def show_met_probability(report: Report, result: Any) -> None:
    """The table of P(the efficiency verdict says met) by true gain, from :func:`power`'s result."""
    if result is None or result.met.empty:
        return
    target = report.plan.targets.pilot_efficiency.target
    report.show_table(
        result.met,
        "power_met",
        title=v(report, "power_met_title"),
        people=None,
        note=v(report, "power_met_note", target=target, rho=result.rho, max_weeks=MAX_WEEKS),
    )


# ---- efficiency ----------------------------------------------------------------------------


def _why_not(report: Report, records: pd.DataFrame) -> str:
    """Why the approval records allow no estimate yet, in the report's language (never an internal message)."""

    return five.reason("no_approvals" if records.empty else "not_estimable", report.language)


def efficiency_evidence(report: Report) -> dict[str, Any]:
    """The pilot's efficiency effect with its evidence.

    Returns a dict with ``sentence`` (markdown), ``cells`` (geometric-mean turnaround per
    pilot/control × before/after cell), ``methods`` (calendar and working hours; the
    chosen inference beside CR1), ``event_figure`` and ``pretrend`` (a sentence, flagged when
    the pre-trend test rejects), ``case`` (the case-study sentence). Every key is always
    there: when the records allow no estimate the sentence says "not measured" and why, the
    other sentences point to it, and the tables and the figure are None (shown as nothing).
    """

    records = efficiency.turnaround_records(report.warehouse, report.plan, end=report.period.end)
    inference = getattr(report.params, "inference", "auto")
    out: dict[str, Any] = {
        "sentence": "",
        "cells": None,
        "methods": None,
        "event_figure": None,
        "pretrend": "",
        "case": "",
    }
    try:
        cal, design = efficiency.pilot_did(
            records, report.plan, inference=inference, n_boot=report.params.n_boot, seed=report.params.seed
        )
        work, _ = efficiency.pilot_did(
            records,
            report.plan,
            outcome="working_hours",
            inference=inference,
            n_boot=report.params.n_boot,
            seed=report.params.seed,
        )
    except ValueError:
        out["sentence"] = v(report, "efficiency_not_estimable", reason=_why_not(report, records))
        out["pretrend"] = out["case"] = v(report, "efficiency_see_above")
        return out
    from wecom_eval.kpis.verdicts import look_of, planned_looks

    recurring = report.name not in READ_ONCE
    looks = (
        {"look": look_of(report.plan, report.period.end), "planned_looks": planned_looks(report.plan)}
        if recurring
        else {}
    )
    row = efficiency.efficiency_row(cal, report.plan, design=design, language=report.language, **looks)
    out["row"] = row
    out["sentence"] = v(
        report,
        "efficiency_sentence",
        gain=row["estimate"],
        low=row["ci_low"],
        high=row["ci_high"],
        p=f"{row['confidence']:.0%}",
        target=row["target"],
        p_zero=row["p_value"],
        p_target=row["target_p_value"],
        verdict=text.verdict_label(row["verdict"], report.language),
    )
    out["sentence"] += " " + (
        v(
            report,
            "efficiency_spent",
            look=looks["look"],
            alpha=row["spent_alpha"],
            p_zero=row["p_value_anytime"],
            p_target=row["target_p_value_anytime"],
        )
        if recurring
        else v(report, "efficiency_once")
    )
    sample, _ = efficiency.launch_sample(records, report.plan)
    cells = efficiency.cell_means(sample)
    cells["group"] = np.where(cells["treated"] == 1, "pilot", "control")
    cells["period"] = np.where(cells["post"] == 1, "after", "before")
    out["cells"] = cells[["group", "period", "departments", "records", "median_hours"]]
    labels = {"zh": ("日历小时", "工作小时"), "en": ("calendar hours", "working hours")}[report.language]
    table = efficiency.did_table({labels[0]: cal, labels[1]: work})
    table["method"] = [
        text.lookup("methods", m, report.language) + "，"
        if report.language == "zh"
        else text.lookup("methods", m, report.language) + ", "
        for m in table["method"]
    ]
    table["method"] += [
        text.lookup("methods", "enumerated" if e else "sampled", report.language, n=f"{n:,}")
        for e, n in zip(table.pop("enumerated"), table.pop("draws"), strict=True)
    ]
    out["methods"] = table
    try:
        es = efficiency.staggered_event_study(
            records, report.plan, n_boot=min(report.params.n_boot, 1999), seed=report.params.seed
        )
        effects = es.effects.assign(
            change=np.expm1(es.effects["estimate"]),
            low=np.expm1(es.effects["ci_low"]),
            high=np.expm1(es.effects["ci_high"]),
        )
        out["event_figure"] = figures.event_study_chart(
            effects,
            estimate="change",
            low="low",
            high="high",
            title=v(report, "event_study"),
            xlabel=v(report, "weeks_since_go_live"),
            ylabel=v(report, "change_in_turnaround"),
            legend=(v(report, "event_estimate"), v(report, "event_interval"), v(report, "event_reference")),
        )
        key = "pretrend_flag" if es.pretrend_rejects else "pretrend_ok"
        out["pretrend"] = v(report, key, p=es.pretrend_p_value)
    except ValueError:
        out["pretrend"] = v(report, "event_study_not_estimable", reason=_why_not(report, records))
    med: Any = sample.groupby(["treated", "post"])["hours"].agg(["median", "size"])
    if len(med) < 4:  # a cell without records: no case to tell
        return out
    out["case"] = v(
        report,
        "case_sentence",
        before=med.loc[(1, 0), "median"],
        after=med.loc[(1, 1), "median"],
        n_before=int(med.loc[(1, 0), "size"]),
        n_after=int(med.loc[(1, 1), "size"]),
        c_before=med.loc[(0, 0), "median"],
        c_after=med.loc[(0, 1), "median"],
    )
    return out


# ---- surveys -------------------------------------------------------------------------------


def survey(report: Report) -> dict[str, Any]:
    """The satisfaction wave's results: sentence, items, distribution figure, α, departments, waves."""
    params: Any = report.params
    wave = satisfaction.latest_wave(
        report.warehouse, last_day=report.period.end, wave=params.wave if hasattr(params, "wave") else ""
    )
    empty: dict[str, Any] = {
        "sentence": v(report, "no_satisfaction"),
        "roster_share": "",
        "waves": "",
        "figure": None,
        "items": pd.DataFrame(),
        "items_people": None,
        "reliability": pd.DataFrame(),
        "reliability_people": None,
        "by_department": pd.DataFrame(),
        "comments": pd.DataFrame(),
        "comment_people": None,
    }
    if wave is None:
        return empty
    wh, plan = report.warehouse, report.plan
    row = satisfaction.satisfaction_row(
        wh,
        plan,
        last_day=report.period.end,
        n_boot=report.params.n_boot,
        seed=report.params.seed,
        wave=wave,
        language=report.language,
    )
    items = satisfaction.item_summary(wh, wave, n_boot=report.params.n_boot, seed=report.params.seed)
    overall = items.loc[items["item"] == satisfaction.OVERALL_ITEM]
    out: dict[str, Any] = {
        **empty,
        "wave": wave,
        "items": items,
        "items_people": int(items["responses"].min()) if len(items) else None,
    }
    if row["estimate"] is not None and len(overall):
        out["sentence"] = v(
            report,
            "satisfaction_sentence",
            wave=wave,
            mean=row["estimate"],
            low=row["ci_low"],
            high=row["ci_high"],
            p=f"{row['confidence']:.0%}",
            n=row["n"],
            top2=float(overall["top2"].iloc[0]),
            target=row["target"],
            verdict=text.verdict_label(row["verdict"], report.language),
            departments=row.get("n_clusters", 0),
            deff=row.get("design_effect", "—"),
        )
    else:
        out["sentence"] = v(report, "no_satisfaction")
    labels = text.strings()["views"]["likert_labels"][report.language]
    counts = satisfaction.likert_counts(wh, wave)
    counts["item"] = counts["item"].map(lambda code: text.lookup("items", code, report.language))
    out["figure"] = figures.likert_chart(counts, labels=labels, title=v(report, "likert_title", wave=wave))
    out["reliability"] = satisfaction.scale_reliability(wh, wave)
    out["reliability_people"] = int(out["reliability"]["responses"].min()) if len(out["reliability"]) else None
    out["by_department"] = satisfaction.by_department(wh, wave)
    share = satisfaction.roster_share(wh, wave)
    out["roster_share"] = v(report, "roster_share_sentence", **share) if share["roster"] else ""
    previous = satisfaction.previous_wave(wh, wave, last_day=report.period.end)
    if previous:
        cmp = satisfaction.compare(wh, previous, wave).iloc[0]
        out["waves"] = v(
            report,
            "wave_sentence",
            baseline=previous,
            diff=cmp["estimate"],
            low=cmp["ci_low"],
            high=cmp["ci_high"],
            pv=p_text(cmp["p_value"]),
            top2=cmp["top2_difference"],
        )
    out["comments"] = satisfaction.comments(wh, plan, wave)
    total = satisfaction.text_respondents(wh, wave)
    out["comment_people"] = total if len(out["comments"]) else None
    return out


# ---- monthly -------------------------------------------------------------------------------


def best_department(report: Report, *, top: int = 10) -> dict[str, Any]:
    """The month's best department: the sentence, the ranking (top rows) and the winner's evidence."""
    month = report.period.start.strftime("%Y-%m")
    report.define("best_department")
    result = kpis.best_department(report.warehouse, report.plan, month=month)
    ranking = result.ranking.loc[result.ranking["ranked"].astype(bool)].head(top)
    wanted = ["rank", "department", "n", "active_rate", "feature_penetration", "feedback", "score", "score_low"]
    size = next(
        (f"{c}_n" for c in ("feature_penetration", "active_rate", "feedback") if f"{c}_n" in ranking.columns), None
    )  # the headcount when penetration is measured
    ranking = ranking.assign(n=ranking[size] if size else np.nan)
    figure = None
    if len(ranking):
        drawn = ranking.assign(score_high=2 * ranking["score"] - ranking["score_low"])  # symmetric interval
        figure = figures.estimate_chart(
            drawn,
            label="department",
            estimate="score",
            low="score_low",
            high="score_high",
            title=v(report, "best_figure"),
            xlabel=v(report, "best_axis"),
            percent=False,
        )
    ranking = ranking[[c for c in wanted if c in ranking.columns]].rename(
        columns={"feature_penetration": "penetration"}
    )
    winner = result.winner
    if winner is None:
        return {
            "sentence": v(report, "no_best"),
            "ranking": ranking,
            "evidence": result.evidence,
            "figure": figure,
            "evidence_people": None,
        }
    sentence = v(
        report,
        "best_sentence",
        month=report.period.label(report.language),
        winner=winner["department"],
        score=winner["score"],
        low=winner["score_low"],
        runner=winner.get("runner_up") or "—",
        runner_score=winner.get("runner_up_score") or math.nan,
        runner_low=winner.get("runner_up_score_low") or math.nan,
        clear=v(report, "best_clear" if winner.get("clear") else "best_not_clear"),
    )
    evidence = result.evidence.rename(columns={"component": "kpi"})
    evidence["kpi"] = evidence["kpi"].map(lambda c: text.column_label(c, report.language))
    smallest: Any = result.evidence["n"].min()
    people = int(smallest)
    return {"sentence": sentence, "ranking": ranking, "evidence": evidence, "evidence_people": people, "figure": figure}


def month_over_month(report: Report) -> pd.DataFrame:
    """Each department's active rate and penetration this month against last month."""
    this_end = report.period.end
    this_start = report.period.start
    last_end = this_start - dt.timedelta(days=1)
    last_start = last_end.replace(day=1)
    rows = []
    for label, start, end in (("last", last_start, last_end), ("this", this_start, this_end)):
        act = (
            kpis.weekly_activity(
                report.warehouse, report.plan, start=max(start, report.plan.start_date), end=end, by="department"
            )
            if end >= report.plan.start_date
            else None
        )
        if act is None or act.empty:
            continue
        act = act.loc[act["working_days"] > 0]
        grouped = act.groupby("department").agg(
            active_rate=("active_rate", "mean"), registered=("registered_week", "max")
        )
        pen = kpis.feature_penetration(report.warehouse, report.plan, as_of=end, by="department")
        mean_pen = pen.groupby("department")["penetration"].mean().rename("penetration")
        rows.append(grouped.join(mean_pen).add_suffix(f"_{label}"))
    if len(rows) < 2:
        return pd.DataFrame(columns=["department", "registered", "active_rate_last", "active_rate_this", "change"])
    both = rows[0].join(rows[1], how="outer").reset_index()
    both["registered"] = both[["registered_last", "registered_this"]].min(axis=1)
    both["change"] = both["active_rate_this"] - both["active_rate_last"]
    both["penetration_change"] = both["penetration_this"] - both["penetration_last"]
    return (
        both[
            [
                "department",
                "registered",
                "active_rate_last",
                "active_rate_this",
                "change",
                "penetration_last",
                "penetration_this",
                "penetration_change",
            ]
        ]
        .sort_values("change")
        .reset_index(drop=True)
    )


# ---- promotion review ----------------------------------------------------------------------


def registration_deadline(report: Report) -> dt.date:
    """The registration deadline, or the period's end when the deadline is later."""
    return min(report.plan.deadline(report.plan.targets.registration.deadline_day), report.period.end)


def deadline_status(report: Report) -> pd.DataFrame:
    """Registration and engaged rate on their deadlines (or today, when the deadline is later).

    The rows are the scorecard's target rows on that day, so a figure whose source is absent
    says ``not_measured`` with its reason (``note``), as in the five targets.
    """

    rows = []
    for target_name in ("registration", "daily_active"):
        deadline = report.plan.deadline(getattr(report.plan.targets, target_name).deadline_day)
        day = min(deadline, report.period.end)
        found = five.adoption_rows(report.warehouse, report.plan, last_day=day, language=report.language)
        rec = next(r for r in found if r["kpi"] == target_name)
        rows.append(
            {
                "kpi": target_name,
                "date": day,
                "deadline": deadline,
                "n": rec["n"],
                "estimate": rec["estimate"],
                "ci_low": rec["ci_low"],
                "ci_high": rec["ci_high"],
                "target": rec["target"],
                "verdict": rec["verdict"],
                "note": rec["note"],
            }
        )
    return pd.DataFrame(rows)


def lagging(report: Report, *, top: int = 10) -> pd.DataFrame:
    """The departments furthest behind their engaged-rate path, with likely reasons."""
    sc = kpis.progress(report.warehouse, report.plan, data_through=report.period.end, by="department")
    act = sc.loc[(sc["kpi"] == "engaged_rate") & sc["estimate"].notna()].set_index("department_id")
    reg: Any = sc.loc[(sc["kpi"] == "registration") & sc["estimate"].notna()].set_index("department_id")["estimate"]
    act_rate: Any = sc.loc[(sc["kpi"] == "active_rate") & sc["estimate"].notna()].set_index("department_id")["estimate"]
    training: Any = report.warehouse.query(
        """
        SELECT m.department_id, count(DISTINCT t.userid) * 1.0 / count(DISTINCT m.userid) AS trained
        FROM members m LEFT JOIN training_attendance t ON t.userid = m.userid AND t.date <= ?
        WHERE m.status IN (1, 2, 4) GROUP BY m.department_id
        """,
        [report.period.end],
    ).set_index("department_id")["trained"]
    median_training = float(training.median()) if len(training) else 0.0
    first_week = report.plan.departments.others_go_live_week
    rows = []
    behind = act.loc[act["gap_to_path"] < 0].sort_values("gap_to_path").head(top)
    did: Any
    for did, rec in behind.iterrows():
        reasons = []
        week = _week_of(report, rec["path_start"])
        if week > first_week:
            reasons.append(v(report, "reason_late_go_live", week=week))
        if did in reg.index and reg[did] < 0.9:
            reasons.append(v(report, "reason_low_registration", rate=reg[did]))
        if did in training.index and training[did] < 0.8 * median_training:
            reasons.append(v(report, "reason_low_training", share=training[did]))
        rows.append(
            {
                "department": rec["department"],
                "n": rec["n"],
                "go_live_week": week,
                "registration_rate": reg.get(did, np.nan),
                "active_rate": act_rate.get(did, np.nan),
                "engaged_rate": rec["estimate"],
                "gap": rec["gap_to_path"],
                "message": "；".join(reasons)
                if report.language == "zh"
                else "; ".join(reasons) or v(report, "reason_unknown"),
            }
        )
        if not reasons:
            rows[-1]["message"] = v(report, "reason_unknown")
    return pd.DataFrame(
        rows,
        columns=[
            "department",
            "n",
            "go_live_week",
            "registration_rate",
            "active_rate",
            "engaged_rate",
            "gap",
            "message",
        ],
    )


def branch_trend_figure(report: Report, kpi: str = "registration") -> Figure:
    """One KPI (registration or the engaged rate) by branch at each week's end, from each branch's
    go-live week on, with the company's target path; each line is named at its end, and a branch
    with nothing to draw is named in the caption with the reason."""
    end = report.period.end
    minutes = report.plan.targets.daily_active.min_daily_minutes
    if kpi == "registration":
        trend = kpis.registration_trend(
            report.warehouse, report.plan, start=report.plan.start_date, end=end, by="branch"
        ).rename(columns={"registration_rate": "rate"})
        title = v(report, "branch_registration_trend")
        path_kpi = "registration"
    else:
        trend = kpis.weekly_activity(
            report.warehouse, report.plan, start=report.plan.start_date, end=end, by="branch"
        ).rename(columns={"engaged_rate": "rate"})
        trend = trend.loc[trend["working_days"] > 0]
        title = v(report, "branch_engaged_trend", minutes=minutes)
        path_kpi = "engaged_rate"
    from wecom_eval.kpis._base import Context

    live = kpis.paths.first_days(Context.of(report.warehouse, report.plan), "branch")
    all_branches = [str(b) for b in trend["branch"].dropna().unique()]
    trend = trend.loc[
        [
            report.plan.week_start(int(w)) >= live.get(b, report.plan.start_date)
            for b, w in zip(trend["branch"], trend["week"], strict=True)
        ]
    ]
    left_out = [b for b in all_branches if b not in set(trend.dropna(subset=["rate"])["branch"].astype(str))]
    trend = trend.dropna(subset=["rate"]).astype({"week": int})
    weeks = sorted(trend["week"].unique())
    ends = [report.plan.week_start(int(w)) + dt.timedelta(days=6) for w in weeks]
    path = pd.DataFrame({"week": weeks, "target": _path_at(report, path_kpi, ends).to_numpy()})
    reason = v(report, "left_out_not_measured" if kpi != "registration" else "left_out_not_live")
    caption = (
        v(
            report,
            "branches_left_out",
            names="、".join(left_out) if report.language == "zh" else ", ".join(left_out),
            reason=reason,
        )
        if left_out
        else ""
    )
    return figures.trend_chart(
        trend,
        x="week",
        y="rate",
        hue="branch",
        target=path,
        title=title,
        xlabel=v(report, "rollout_week"),
        target_label=v(report, "target_path"),
        language=report.language,
        end_labels=True,
        caption=caption,
        empty_text=v(report, "chart_not_measured"),
    )


__all__ = [
    "SHARE",
    "p_text",
    "title",
    "v",
    "activity_by_department",
    "activity_trend",
    "activity_trend_figure",
    "alert_table",
    "best_department",
    "branch_trend_figure",
    "deadline_status",
    "department_status",
    "efficiency_evidence",
    "feature_figure",
    "feature_gaps",
    "feature_status",
    "headline",
    "lagging",
    "month_over_month",
    "needs",
    "needs_figure",
    "pilot_status",
    "points_table",
    "power",
    "reconciliation",
    "show_met_probability",
    "registration_trend_figure",
    "support_table",
    "survey",
    "targets",
]
