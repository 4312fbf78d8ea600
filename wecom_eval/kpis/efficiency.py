"""Did the pilot make work faster? Approval turnaround before and after go-live, pilot vs control.

The plan's efficiency target (DESIGN §6, §7): pilot efficiency gain = 1 − (turnaround
after ÷ turnaround before) in the pilot departments, net of the change in control
departments over the same weeks. This module turns the warehouse's process records into
the frames :func:`wecom_eval.stats.did` and :func:`wecom_eval.stats.event_study` take, and
their results into the rows and sentences a report shows.

* :func:`turnaround_records` — finished records of the plan's process (approved or
  rejected), with calendar and working hours, rollout week and go-live week.
* :func:`pilot_did` — the **launch design**: pilot departments against the departments not
  yet live, baseline weeks before the rollout against the weeks in which only the pilots
  were live. Outcome: log turnaround in calendar hours (and working hours beside);
  departments are the clusters; few-cluster-valid inference (``stats.did``).
* :func:`staggered_event_study` — every department's go-live, with departments not yet
  live as controls: effects by weeks since go-live and the pre-trend test.
* :func:`efficiency_row` — the scorecard row: gain, its interval and the verdict.

Verdicts follow :mod:`wecom_eval.stats.targets`: the interval ends are one-sided 95 %
bounds (a two-sided 90 % interval); the target is **met** when the lower bound of the gain
clears it, **missed** when the upper bound falls short, else **not yet shown**.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval import text
from wecom_eval.kpis import queries_records as q
from wecom_eval.kpis._base import plan_departments
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import Warehouse
from wecom_eval.workcal import WorkCalendar

FINISHED = ("approved", "rejected")
ALPHA = 0.05  # one-sided, as in stats.targets: the did interval is then two-sided 90 %
MIN_WORKING_HOURS = 1 / 60  # a record finished outside working hours counts one minute


def _weeks(plan: RolloutPlan, days: pd.Series) -> np.ndarray:
    """The rollout week of each day (0 and below before the rollout)."""
    offsets = (pd.to_datetime(days) - pd.Timestamp(plan.start_date)).dt.days.to_numpy(dtype=np.int64)
    return offsets // 7 + 1


def turnaround_records(
    warehouse: Warehouse,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    calendar: WorkCalendar | None = None,
    started_before: dt.date | None = None,
) -> pd.DataFrame:
    """Finished records of the plan's efficiency process started up to ``data_through``.

    Returns
    -------
    DataFrame
        One row per record: ``record_id``, ``department_id``, ``department`` (path),
        ``is_pilot``, ``go_live_date``, ``go_live_week``, ``system``, ``started_at``,
        ``start_date``, ``week`` (rollout week of the start; 0 and below before the
        rollout), ``hours`` (calendar), ``working_hours`` (09:00–18:00 on working days, at
        least one minute), ``live`` (started on or after the department's go-live).
    """
    calendar = calendar or WorkCalendar(plan)
    process = plan.targets.pilot_efficiency.process
    if started_before is None:
        frame = warehouse.query(q.TURNAROUND_RECORDS, [process, data_through])
    else:
        sql = q.TURNAROUND_RECORDS.replace("ORDER BY", "AND p.started_at < CAST(? AS TIMESTAMPTZ) ORDER BY")
        frame = warehouse.query(sql, [process, data_through, started_before])
    # the plan in force decides, once per department rather than once per record
    frame["department_id"] = frame["department_id"].astype("int64")
    deps = plan_departments(plan, frame[["department_id", "path"]].drop_duplicates(ignore_index=True))
    frame = frame.merge(deps.drop(columns="path"), on="department_id", how="left").rename(
        columns={"path": "department"}
    )
    started = pd.to_datetime(frame["started_at"])
    finished = pd.to_datetime(frame["finished_at"])
    frame["start_date"] = started.dt.tz_convert(plan.timezone).dt.date if started.dt.tz is not None else started.dt.date
    frame["week"] = _weeks(plan, frame["start_date"])
    frame["go_live_week"] = _weeks(plan, frame["go_live_date"])
    frame["hours"] = (finished - started).dt.total_seconds() / 3600.0
    local_start = started.dt.tz_convert(plan.timezone) if started.dt.tz is not None else started
    local_end = finished.dt.tz_convert(plan.timezone) if finished.dt.tz is not None else finished
    frame["working_hours"] = calendar.working_hours_between(local_start, local_end).clip(lower=MIN_WORKING_HOURS)
    frame["live"] = frame["start_date"] >= frame["go_live_date"]
    return frame


@dataclass(frozen=True)
class LaunchDesign:
    """The launch comparison: which weeks are before and after, and which departments compare."""

    before: tuple[dt.date, dt.date]
    after: tuple[dt.date, dt.date]
    pilots: int
    controls: int


@dataclass(frozen=True)
class LaunchBounds:
    """What the launch design reads off all the records: the first go-live of a control
    department with records, and the first and last day of a record (None: no records)."""

    first_control: dt.date | None
    first_day: dt.date | None
    last_day: dt.date | None

    @classmethod
    def of(cls, records: pd.DataFrame) -> LaunchBounds:
        controls = records.loc[~records["is_pilot"]]
        return cls(
            controls["go_live_date"].min() if len(controls) else None,
            min(records["start_date"]) if len(records) else None,
            max(records["start_date"]) if len(records) else None,
        )


def launch_records(
    warehouse: Warehouse, plan: RolloutPlan, *, data_through: dt.date
) -> tuple[pd.DataFrame, LaunchBounds]:
    """The records :func:`launch_sample` can use (none started after the first control's
    go-live), with the bounds it reads off all of them: the launch design without reading
    a year of records (19 million at 1,000,000 employees)."""
    process = plan.targets.pilot_efficiency.process
    spans = warehouse.query(q.TURNAROUND_SPANS, [process, data_through])
    if spans.empty:
        return turnaround_records(warehouse, plan, data_through=data_through), LaunchBounds(None, None, None)
    spans = plan_departments(plan, spans)
    for col in ("first_at", "last_at"):
        at = pd.to_datetime(spans[col])
        spans[col] = at.dt.tz_convert(plan.timezone).dt.date if at.dt.tz is not None else at.dt.date
    controls = spans.loc[~spans["is_pilot"]]
    bounds = LaunchBounds(
        controls["go_live_date"].min() if len(controls) else None, min(spans["first_at"]), max(spans["last_at"])
    )
    before = None if bounds.first_control is None else max(bounds.first_control, plan.start_date)
    # two days of margin: the SQL compares in the session's time zone, the sample in the plan's
    until = None if before is None else before + dt.timedelta(days=2)
    return turnaround_records(warehouse, plan, data_through=data_through, started_before=until), bounds


def launch_sample(
    records: pd.DataFrame, plan: RolloutPlan, *, bounds: LaunchBounds | None = None
) -> tuple[pd.DataFrame, LaunchDesign]:
    """Records of the launch design: baseline vs the weeks when only the pilots were live.

    ``after`` runs from the rollout's start to the day before the first control department
    goes live (or the last record); ``before`` is every baseline day before the start.
    Adds ``treated`` and ``post`` (0/1) columns. ``bounds``: those of all the records, when
    ``records`` holds only those of :func:`launch_records`.
    """
    b = bounds or LaunchBounds.of(records)
    first_control = b.first_control
    last_day = b.last_day if b.last_day is not None else plan.start_date
    after_end = min(first_control - dt.timedelta(days=1), last_day) if first_control else last_day
    first_day = b.first_day if b.first_day is not None else plan.start_date
    before = (first_day, plan.start_date - dt.timedelta(days=1))
    after = (plan.start_date, after_end)
    in_before = records["start_date"] < plan.start_date
    in_after = (records["start_date"] >= plan.start_date) & (records["start_date"] <= after_end)
    sample = records.loc[in_before | in_after].copy()
    sample["treated"] = sample["is_pilot"].astype(int)
    sample["post"] = (sample["start_date"] >= plan.start_date).astype(int)
    design = LaunchDesign(
        before,
        after,
        int(sample.loc[sample["treated"] == 1, "department_id"].nunique()),
        int(sample.loc[sample["treated"] == 0, "department_id"].nunique()),
    )
    return sample, design


def pilot_did(
    records: pd.DataFrame,
    plan: RolloutPlan,
    *,
    outcome: str = "hours",
    inference: Any = "auto",
    n_boot: int = 9999,
    seed: int = 0,
    bounds: LaunchBounds | None = None,
) -> tuple[Any, LaunchDesign]:
    """The pilot's effect on log turnaround by difference-in-differences (launch design).

    Returns the :class:`~wecom_eval.stats.DidResult` (``alpha`` = 0.10: its interval ends
    are one-sided 95 % bounds) and the :class:`LaunchDesign` it used. The result's
    ``p_value`` tests "no effect"; its ``target_p_value`` tests the target itself, "the gain
    is at most the plan's target" (one-sided): the verdict is "met" exactly when that is
    at most 0.05.
    """
    from wecom_eval import stats

    sample, design = launch_sample(records, plan, bounds=bounds)
    target = math.log1p(-plan.targets.pilot_efficiency.target)  # "the gain is at most the target"
    result = stats.did(
        sample,
        outcome=outcome,
        treated="treated",
        post="post",
        cluster="department_id",
        transform="log",
        inference=inference,
        n_boot=n_boot,
        alpha=2 * ALPHA,
        seed=seed,
        target_effect=target,
    )
    return result, design


def verdict_for_gain(low: float, high: float, target: float) -> str:
    """met / not_yet_shown / missed for a gain interval against its target (a floor).

    >>> verdict_for_gain(0.35, 0.55, 0.30), verdict_for_gain(0.2, 0.5, 0.30), verdict_for_gain(0.05, 0.25, 0.30)
    ('met', 'not_yet_shown', 'missed')
    """
    if math.isnan(low) or math.isnan(high):
        return "not_measured"
    if low >= target:
        return "met"
    return "missed" if high < target else "not_yet_shown"


def method_text(result: Any, language: str, *, design: LaunchDesign | None = None) -> str:
    """How the effect was estimated, in the report's language (for kpis.json and the deck)."""
    draws = text.lookup("methods", "enumerated" if result.enumerated else "sampled", language, n=f"{result.n_draws:,}")
    name = text.lookup("methods", result.inference, language)
    if language == "zh":
        out = (
            f"双重差分（对数办理时长），{name}（{draws}）；{result.n_clusters} 个部门"
            f"（{result.n_treated_clusters} 个试点），{result.n_obs:,} 条记录"
        )
        if design is not None:
            out += f"；上线前 {design.before[0]} 至 {design.before[1]}，上线后 {design.after[0]} 至 {design.after[1]}"
        return out
    out = (
        f"difference-in-differences on log turnaround, {name.lower()} ({draws}); {result.n_clusters} departments "
        f"({result.n_treated_clusters} pilot), {result.n_obs:,} records"
    )
    if design is not None:
        out += f"; before {design.before[0]} to {design.before[1]}, after {design.after[0]} to {design.after[1]}"
    return out


def spent_gain_verdict(target_p_value: float, alpha_look: float) -> str:
    """met / not_yet_shown / missed from the target test's one-sided p-value at one look's spent alpha.

    ``target_p_value`` is the p-value of "the gain is at most the target": met when it is at
    most ``alpha_look``; missed when that of the other side, "the gain is at least the
    target" (``1 - target_p_value``), is. Each side then errs at ``alpha_look`` at this look.

    >>> spent_gain_verdict(0.004, 0.05 / 13), spent_gain_verdict(0.003, 0.05 / 13), spent_gain_verdict(0.998, 0.05 / 13)
    ('not_yet_shown', 'met', 'missed')
    """
    if target_p_value is None or math.isnan(target_p_value):
        return "not_measured"
    if target_p_value <= alpha_look:
        return "met"
    return "missed" if 1.0 - target_p_value <= alpha_look else "not_yet_shown"


def efficiency_row(
    result: Any,
    plan: RolloutPlan,
    *,
    design: LaunchDesign | None = None,
    language: str = "en",
    look: int | None = None,
    planned_looks: int = 12,
) -> dict[str, Any]:
    """The scorecard row of the efficiency target from a :class:`DidResult`.

    Without ``look`` (a report read once, the deepening review): the verdict follows the
    one-off one-sided 95 % bounds (:func:`verdict_for_gain`). With ``look`` (the rollout week
    of a report that recurs): the verdict compares the target test's one-sided p-value with
    the error rate spent at that look, :func:`wecom_eval.stats.spent_alpha` (``alpha`` 0.05
    each side), so that reading it every week keeps the chance of *ever* a wrong "met" (or
    "missed") at 5 % (union bound over looks, as the adoption targets). ``p_value_anytime``
    and ``target_p_value_anytime`` are then the two p-values made comparable with 0.05 over
    all looks (:func:`wecom_eval.stats.sequential.anytime_p_value`); the interval shown stays
    the week's one-off 90 % interval.
    """
    from wecom_eval.stats.sequential import anytime_p_value, spent_alpha

    target = plan.targets.pilot_efficiency.target
    gain = -result.relative_change
    low, high = -result.relative_ci_high, -result.relative_ci_low
    method = method_text(result, language, design=design)
    row = {
        "kpi": "pilot_efficiency",
        "target": target,
        "deadline": None,
        "estimate": gain,
        "ci_low": low,
        "ci_high": high,
        "verdict": verdict_for_gain(low, high, target),
        "unit": "share",
        "n": int(result.n_obs),
        "method": method,
        "confidence": 1 - 2 * ALPHA,
        "verdict_basis": verdict_basis(result),
        "p_value": result.p_value,
        "target_p_value": result.target_p_value,
        "note": _caveats(result, language),
        "spent_alpha": ALPHA,
        "p_value_anytime": result.p_value,
        "target_p_value_anytime": result.target_p_value,
    }
    if look is None:
        return row
    a_look = spent_alpha(look, alpha=ALPHA, planned_looks=planned_looks)
    row.update(
        verdict=spent_gain_verdict(result.target_p_value, a_look),
        verdict_basis=verdict_basis(result) + "+spent_alpha",
        spent_alpha=a_look,
        p_value_anytime=anytime_p_value(result.p_value, look, planned_looks=planned_looks),
        target_p_value_anytime=anytime_p_value(result.target_p_value, look, planned_looks=planned_looks),
    )
    return row


def verdict_basis(result: Any) -> str:
    """``kpis.json``'s ``verdict_basis`` of a DiD verdict: the inference behind the bound
    (``+spent_alpha`` is added when a recurring report spends alpha over its looks)."""
    return {
        "randomization": "randomization",
        "randomization_sized": "randomization:size_standardised",
        "wild": "wild_bootstrap",
        "cluster": "cluster_robust_t",
        "classical": "classical_t",
    }.get(result.inference, "none")


def _caveats(result: Any, language: str) -> str | None:
    """The estimate's statistical warnings: as written in English, one caveat from strings.yaml otherwise."""
    if not result.warnings:
        return None
    if language == "en":
        return "; ".join(result.warnings)
    return text.lookup(
        "reasons", "stat_caveats", language, clusters=result.n_clusters, treated=result.n_treated_clusters
    )


def did_table(results: dict[str, Any]) -> pd.DataFrame:
    """One row per outcome (calendar / working hours): change, interval, p-value, method.

    ``p_value`` tests "no effect", ``target_p_value`` "the gain is at most the target".
    ``method`` is the inference's short code (``randomization``, ``wild``, ``cluster``,
    ``classical``); ``draws`` the assignments or bootstrap draws behind it (``enumerated``
    when every one was used); the cluster-robust t p-value stands beside it.
    """
    rows = []
    for label, r in results.items():
        rows.append(
            {
                "outcome": label,
                "change": r.relative_change,
                "ci_low": r.relative_ci_low,
                "ci_high": r.relative_ci_high,
                "p_value": r.p_value,
                "target_p_value": r.target_p_value,
                "method": r.inference,
                "draws": r.n_draws,
                "enumerated": r.enumerated,
                "cr1_p_value": r.cr1_p_value,
                "departments": r.n_clusters,
                "records": r.n_obs,
            }
        )
    return pd.DataFrame(rows)


def cell_means(sample: pd.DataFrame, *, outcome: str = "hours") -> pd.DataFrame:
    """Geometric-mean turnaround of each design cell (pilot/control × before/after)."""
    logs = np.log(sample[outcome])
    out = (
        sample.assign(_log=logs)
        .groupby(["treated", "post"])
        .agg(records=("_log", "size"), departments=("department_id", "nunique"), mean_log=("_log", "mean"))
        .reset_index()
    )
    out["median_hours"] = np.exp(out["mean_log"])
    return out


def staggered_event_study(
    records: pd.DataFrame,
    plan: RolloutPlan,
    *,
    outcome: str = "hours",
    leads: int = 4,
    n_boot: int = 9999,
    seed: int = 0,
) -> Any:
    """Effects by weeks since each department's go-live (not-yet-live departments as controls)."""
    from wecom_eval import stats

    data = records.assign(first_week=records["go_live_week"].astype(float))
    return stats.event_study(
        data,
        outcome=outcome,
        unit="department_id",
        time="week",
        first_treated="first_week",
        transform="log",
        leads=leads,
        n_boot=n_boot,
        alpha=2 * ALPHA,
        seed=seed,
    )


__all__ = [
    "LaunchDesign",
    "cell_means",
    "did_table",
    "efficiency_row",
    "LaunchBounds",
    "launch_records",
    "launch_sample",
    "method_text",
    "pilot_did",
    "spent_gain_verdict",
    "staggered_event_study",
    "turnaround_records",
    "verdict_basis",
    "verdict_for_gain",
]
