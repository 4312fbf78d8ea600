"""Forecasts to each target's deadline: where the figure will be, how sure, when, and what it takes.

:func:`forecast` reads each department's weekly history from the warehouse (:func:`history`)
up to ``data_through``, the day before the report's ``as_of``, and projects it with the
model of :mod:`wecom_eval.kpis.forecast_model` (its docstring describes the model, the
naive baseline and the scoring); :func:`target_forecasts` picks what ``kpis.json`` keeps.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from wecom_eval.kpis._base import Context, as_date
from wecom_eval.kpis.forecast_model import (
    HORIZON_DAYS,
    LEVEL,
    MIN_WEEKS,
    MODEL,
    SETTINGS,
    TARGETS,
    naive,
    project,
    summarise,
)
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar


def _week_ends(plan: RolloutPlan, data_through: dt.date) -> list[dt.date]:
    weeks = (data_through - plan.start_date).days // 7 + 1
    ends = [plan.week_start(w) + dt.timedelta(days=6) for w in range(1, weeks + 1)]
    return [d for d in ends if d <= data_through] or []


def _day(plan: RolloutPlan, day: dt.date) -> int:
    return (day - plan.start_date).days + 1


def history(
    source: Source, plan: RolloutPlan, *, data_through: dt.date, cal: WorkCalendar | None = None
) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """The weekly history the forecasts read, by department and unprotected (internal use):
    ``{series: (history, units)}`` with the frames :func:`project` takes, for ``registration``,
    ``daily_active`` (the engaged rate, weekly means placed mid-week) and ``feature_penetration:<f>``."""
    from wecom_eval.kpis.activity import weekly_activity_raw
    from wecom_eval.kpis.penetration import penetration_raw
    from wecom_eval.kpis.registration import registration_raw

    ctx = Context.of(source, plan, cal)
    ends = _week_ends(plan, data_through)
    deps = ctx.departments()
    go_live = {int(i): _day(plan, d) for i, d in zip(deps["department_id"], deps["go_live_date"], strict=True)}
    out: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    if not ends:
        return out

    def units(weights: pd.Series) -> pd.DataFrame:
        ids = [int(i) for i in weights.index]
        return pd.DataFrame(
            {"unit": ids, "go_live_day": [go_live.get(i, 1) for i in ids], "weight": weights.to_numpy(dtype=float)}
        )

    reg = registration_raw(ctx, data_through=ends, by="department")
    reg_hist = pd.DataFrame(
        {
            "unit": reg["department_id"].astype(int),
            "day": [_day(plan, d) for d in reg["data_through"]],
            "value": reg["registration_rate"].astype(float),
            "n": reg["employees"].astype(float),
        }
    )
    roster = reg.loc[reg["data_through"] == reg["data_through"].max()].set_index("department_id")["employees"]
    out["registration"] = (reg_hist, units(roster))

    act = weekly_activity_raw(ctx, start=plan.start_date, end=ends[-1], by="department")
    act = act.loc[(act["working_days"] > 0) & act["engaged_measured"].fillna(False).astype(bool)]
    act_hist = pd.DataFrame(
        {
            "unit": act["department_id"].astype(int),
            "day": [_day(plan, d) + 3 for d in act["week_start"]],
            "value": act["engaged_rate"].astype(float),
            "n": act["measured_mean"].astype(float),
        }
    )
    measured = roster.loc[roster.index.isin(set(act["department_id"].astype(int)))]
    out["daily_active"] = (act_hist, units(measured))

    pen = penetration_raw(ctx, data_through=ends, by="department")
    for feature, part in pen.groupby("feature", sort=False):
        hist = pd.DataFrame(
            {
                "unit": part["department_id"].astype(int),
                "day": [_day(plan, d) for d in part["data_through"]],
                "value": part["penetration"].astype(float),
                "n": part["eligible"].astype(float),
            }
        )
        eligible = part.loc[part["data_through"] == part["data_through"].max()].set_index("department_id")["eligible"]
        out[f"feature_penetration:{feature}"] = (hist, units(eligible))
    return out


def _company_weekly(hist: pd.DataFrame, units: pd.DataFrame) -> pd.Series:
    """The company figure of each observed day: the departments' figures weighted by the people
    behind them that day, which is the company's own ratio (registered ÷ roster and so on)."""
    h = hist.loc[hist["unit"].isin(units.loc[units["weight"] > 0, "unit"])].dropna(subset=["value"])
    h = h.loc[h["n"] > 0]
    sums = (h["value"] * h["n"]).groupby(h["day"]).sum() / h["n"].groupby(h["day"]).sum()
    return sums.sort_index().astype(float)


def forecast(
    source: Source,
    plan: RolloutPlan,
    *,
    as_of: dt.date,
    level: float = LEVEL,
    draws: int = 2000,
    seed: int = 0,
    cal: WorkCalendar | None = None,
    departments: bool = True,
    horizon_days: int = HORIZON_DAYS,
) -> pd.DataFrame:
    """The forecast of each target at its deadline, for the company and each department.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan and its calendar.
    as_of
        The report date; the data run to the day before.
    level
        Prediction-interval level (default 0.8).
    draws, seed
        Simulations per forecast and their seed.
    departments
        Also give each department's forecast (the company's is always given).
    horizon_days
        How far past the deadline the reach date is looked for (0: not past the deadline).

    Returns
    -------
    pandas.DataFrame
        One row per target, feature and group: ``target_id`` (``registration``,
        ``daily_active``, ``feature_penetration``), ``feature`` (penetration only; the
        company row of the penetration target itself has the weakest feature, see
        :func:`target_forecasts`), ``department_id`` (None for the company), ``weight``
        (people it weighs), ``now`` (latest weekly figure), ``target``, ``deadline``,
        ``at_deadline``, ``pi_low``, ``pi_high``, ``level``, ``reach_date``,
        ``needed_per_week`` (share a week), ``model``, ``naive_at_deadline``, ``naive_low``,
        ``naive_high`` (company rows), ``reason`` (why there is no forecast, else None).
        Departments are not privacy-protected here: callers drop those under the floor.
    """
    as_of = as_date(as_of, name="as_of")
    data_through = as_of - dt.timedelta(days=1)
    rows: list[dict[str, Any]] = []
    calendar = cal or WorkCalendar(plan)
    series = history(source, plan, data_through=data_through, cal=calendar)
    for target_id in TARGETS:
        target = getattr(plan.targets, target_id)
        deadline = plan.deadline(target.deadline_day)
        names = [k for k in series if k.split(":")[0] == target_id] or [target_id]
        for name in names:
            feature = name.split(":")[1] if ":" in name else None
            base = {
                "target_id": target_id,
                "feature": feature,
                "department_id": None,
                "target": target.target,
                "deadline": deadline,
                "level": level,
                "model": MODEL,
            }
            hist, units = series.get(name, (pd.DataFrame(), pd.DataFrame()))
            weekly = _company_weekly(hist, units) if len(hist) else pd.Series(dtype=float)
            why = _no_forecast(weekly, data_through, deadline, plan)
            if why:
                code, reason = why
                rows.append(
                    {
                        **base,
                        "now": float(weekly.iloc[-1]) if len(weekly) else None,
                        "reason": reason,
                        "reason_code": code,
                        "weeks": len(weekly),
                    }
                )
                continue
            rows.extend(
                _rows(
                    plan,
                    base,
                    hist,
                    units,
                    weekly,
                    cal=calendar,
                    data_through=data_through,
                    level=level,
                    draws=draws,
                    seed=seed,
                    departments=departments,
                    horizon_days=horizon_days,
                )
            )
    return pd.DataFrame(rows)


def _no_forecast(
    weekly: pd.Series, data_through: dt.date, deadline: dt.date, plan: RolloutPlan
) -> tuple[str, str] | None:
    """Why no forecast is made, as ``(code, English reason)``; reports say the code in their language."""
    if data_through >= deadline:
        return "deadline_passed", f"the deadline {deadline} has passed: the verdict gives the figure on it"
    if len(weekly) < MIN_WEEKS:
        return "too_little_data", (
            f"too little data: {len(weekly)} weekly figure(s) so far, a forecast needs {MIN_WEEKS}"
        )
    return None


def _rows(
    plan: RolloutPlan,
    base: dict[str, Any],
    hist: pd.DataFrame,
    units: pd.DataFrame,
    weekly: pd.Series,
    *,
    cal: WorkCalendar,
    data_through: dt.date,
    level: float,
    draws: int,
    seed: int,
    departments: bool,
    horizon_days: int,
) -> list[dict[str, Any]]:
    """The company's forecast row of one target (and feature), then each department's."""
    deadline: dt.date = base["deadline"]
    last, dl = _day(plan, data_through), _day(plan, deadline)
    until = dl + horizon_days
    needed = max([until, *units["go_live_day"].astype(int), *hist["day"].astype(int)])  # every day the clock reads
    working = cal.working_day_mask(plan.deadline(d) for d in range(1, needed + 1))
    proj = project(
        hist,
        units,
        kpi=base["target_id"],
        last_day=last,
        until_day=until,
        keep=[dl],
        working=working,
        draws=draws,
        seed=seed,
    )
    now = float(weekly.iloc[-1])
    settings = SETTINGS[base["target_id"]]
    scale = settings.scale[min(len(weekly) - MIN_WEEKS, len(settings.scale) - 1)]

    def summary(path: np.ndarray, now: float) -> dict[str, Any]:
        found = summarise(
            path, proj.days, deadline_day=dl, last_day=last, now=now, target=base["target"], level=level, scale=scale
        )
        return _dated(plan, found)

    point, low, high = naive(weekly.to_list(), weeks_ahead=(dl - int(weekly.index[-1])) / 7, level=level)
    rows = [
        {
            **base,
            "weight": float(sum(proj.weights.values())),
            "now": now,
            **summary(proj.company, now),
            "naive_at_deadline": point,
            "naive_low": low,
            "naive_high": high,
            "reason": None,
        }
    ]
    latest = hist.sort_values("day").groupby("unit")["value"].last()
    for unit, path in proj.units.items() if departments else ():
        now_u = float(latest.get(unit, math.nan))
        if not np.isfinite(now_u):
            continue
        weight = proj.weights[unit]
        rows.append(
            {**base, "department_id": unit, "weight": weight, "now": now_u, **summary(path, now_u), "reason": None}
        )
    return rows


def _dated(plan: RolloutPlan, summary: dict[str, Any]) -> dict[str, Any]:
    reach = summary.pop("reach_day")
    summary["reach_date"] = None if reach is None else plan.deadline(int(reach))
    return summary


def target_forecasts(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The company forecast of each target for ``kpis.json``: ``{target_id: {forecast, reason}}``.

    ``forecast`` is ``{at_deadline, pi_low, pi_high, level, reach_date, needed_per_week,
    model}`` or None (``reason`` says why). The penetration target takes the feature with
    the lowest projected value, as its verdict takes the weakest feature.
    """
    out: dict[str, dict[str, Any]] = {}
    company = frame.loc[frame["department_id"].isna()] if len(frame) else frame
    for target_id in TARGETS:
        rows = company.loc[company["target_id"] == target_id] if len(company) else company
        made = rows.loc[rows["reason"].isna()] if len(rows) else rows
        if not len(made):
            reason = str(rows["reason"].dropna().iloc[0]) if len(rows) and rows["reason"].notna().any() else "no data"
            out[target_id] = {"forecast": None, "reason": reason}
            continue
        rec = made.sort_values("at_deadline").iloc[0]
        reach = rec["reach_date"]
        out[target_id] = {
            "forecast": {
                "at_deadline": float(rec["at_deadline"]),
                "pi_low": float(rec["pi_low"]),
                "pi_high": float(rec["pi_high"]),
                "level": float(rec["level"]),
                "reach_date": None if reach is None or pd.isna(reach) else str(reach),
                "needed_per_week": float(rec["needed_per_week"]),
                "model": MODEL,
                **({} if pd.isna(rec["feature"]) else {"feature": str(rec["feature"])}),
            },
            "reason": None,
        }
    return out


__all__ = ["forecast", "history", "target_forecasts"]
