"""The weekly path to a target: from 0 on the first day to the target on the deadline.

The verdicts of a figure against its path and its target are in :mod:`wecom_eval.kpis.verdicts`;
each adoption KPI today against both is :func:`wecom_eval.kpis.progress.progress`; the five-target
scorecard of the reports is :mod:`wecom_eval.kpis.targets`.

The path
--------
Each target (registration, daily active/engaged, feature penetration) has a path from 0 on
the first day to the target on the deadline. The path is **S-shaped** by default — the
smoothstep ``target · (3x² − 2x³)`` of the elapsed share ``x`` of the time — because
adoption follows an S-curve: a straight line would call everyone behind in the first days
(when nobody can be far along yet) and ask too little in the last weeks (when a department
that is really behind can still be helped). ``shape="linear"`` gives ``target · x``.

``x = (days from the path's first day to d, both included) / deadline_day``: on the first
day x = 1/deadline_day, on the deadline x = 1, after it the path stays at the target and
before the first day it is 0.

Whose path
----------
The company's path starts on the plan's ``start_date`` and ends on the plan's deadline.
With ``align="go_live"`` (the default) a department's path starts on its own go-live date
and lasts as long as the company's (``deadline_day`` days), so a department that goes live
in week 6 is not called behind for weeks it was not yet live; a branch's path starts on the
plan's go-live week for the branch's path. ``align="start"`` measures every group against the
company's path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import numpy as np
import pandas as pd

from wecom_eval.kpis._base import By, Context, as_date, check_by
from wecom_eval.plan import RolloutPlan, ShareTarget

Shape = Literal["s_curve", "linear"]
Align = Literal["go_live", "start"]
KPIS: tuple[str, ...] = ("registration", "active_rate", "engaged_rate", "feature_penetration")
_TARGET_OF = {
    "registration": "registration",
    "active_rate": "daily_active",
    "engaged_rate": "daily_active",
    "feature_penetration": "feature_penetration",
}


def target_of(plan: RolloutPlan, kpi: str) -> ShareTarget:
    """The plan's target for a KPI name (``registration``, ``active_rate``, ``engaged_rate``,
    ``feature_penetration``)."""
    if kpi not in _TARGET_OF:
        raise ValueError(f"kpi={kpi!r}: use one of {', '.join(KPIS)}")
    target: ShareTarget = getattr(plan.targets, _TARGET_OF[kpi])
    return target


def path_share(elapsed_days: float | np.ndarray, duration_days: int, *, shape: Shape = "s_curve") -> float | np.ndarray:
    """The share of the target the path asks for after ``elapsed_days`` of ``duration_days``.

    >>> path_share(15, 30), path_share(15, 30, shape="linear")
    (0.5, 0.5)
    >>> round(float(path_share(7, 28)), 4), path_share(0, 28), path_share(40, 28)
    (0.1562, 0.0, 1.0)
    """
    if duration_days < 1:
        raise ValueError(f"duration_days must be 1 or more, got {duration_days}")
    x = np.clip(np.asarray(elapsed_days, dtype=float) / duration_days, 0.0, 1.0)
    if shape == "s_curve":
        y = x * x * (3.0 - 2.0 * x)
    elif shape == "linear":
        y = x
    else:
        raise ValueError(f"shape={shape!r}: use 's_curve' or 'linear'")
    return float(y) if np.ndim(y) == 0 else y


def path_value(
    plan: RolloutPlan, kpi: str, day: dt.date, *, first_day: dt.date | None = None, shape: Shape = "s_curve"
) -> float:
    """The path's value on ``day`` for a path starting on ``first_day`` (default: the plan's start)."""
    target = target_of(plan, kpi)
    first = first_day or plan.start_date
    elapsed = (day - first).days + 1
    return float(target.target * path_share(max(elapsed, 0), target.deadline_day, shape=shape))


def path_deadline(plan: RolloutPlan, kpi: str, *, first_day: dt.date | None = None) -> dt.date:
    """The day a path starting on ``first_day`` reaches its target."""
    first = first_day or plan.start_date
    return first + dt.timedelta(days=target_of(plan, kpi).deadline_day - 1)


def target_path(
    plan: RolloutPlan,
    kpi: str,
    *,
    start: dt.date,
    end: dt.date,
    first_day: dt.date | None = None,
    shape: Shape = "s_curve",
) -> pd.DataFrame:
    """The path day by day from ``start`` to ``end``: ``date``, ``path``, ``target``, ``deadline``.

    For trend charts; ``first_day`` is where the path begins (default: the plan's start).
    """
    start = as_date(start, name="start")
    end = as_date(end, name="end")
    days = pd.date_range(start, end, freq="D").date
    first = first_day or plan.start_date
    elapsed = np.array([(d - first).days + 1 for d in days], dtype=float)
    target = target_of(plan, kpi)
    return pd.DataFrame(
        {
            "date": days,
            "path": target.target * np.asarray(path_share(np.maximum(elapsed, 0), target.deadline_day, shape=shape)),
            "target": target.target,
            "deadline": path_deadline(plan, kpi, first_day=first),
        }
    )


def first_days(ctx: Context, by: By, *, align: Align = "go_live") -> dict[Any, dt.date]:
    """Where each group's path begins: its go-live (``align="go_live"``) or the plan's start."""
    check_by(by)
    plan = ctx.plan
    if align not in ("go_live", "start"):
        raise ValueError(f"align={align!r}: use 'go_live' or 'start'")
    if by == "company" or align == "start":
        return {}
    deps = ctx.departments()
    if by == "department":
        return {int(i): d for i, d in zip(deps["department_id"], deps["go_live_date"], strict=True)}
    out = {}
    for branch in deps["branch"].unique():
        out[branch] = plan.week_start(plan.go_live_week(str(branch), -1, is_pilot=False))
    return out


__all__ = [
    "KPIS",
    "first_days",
    "path_deadline",
    "path_share",
    "path_value",
    "target_of",
    "target_path",
]
