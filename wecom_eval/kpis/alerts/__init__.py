"""Alerts: what is behind its path (by how much, since which week), stragglers, data problems.

Each alert says what, where, by how much and since when (DESIGN §6):

``behind_path``
    A KPI (registration, active rate, engaged rate, a feature's penetration) of the company
    or of a department below its target path (:mod:`wecom_eval.kpis.paths`) this week.
    ``gap`` is figure − path; ``since_week`` is the first week of the unbroken run of weeks
    behind that ends now (read at each rollout week's end). ``severity`` is ``high`` when
    the shortfall is shown — always so for registration, which is a count; for the sampled
    rates when the upper bound of the weekly confidence sequence is below the path *and*
    the alert survives Benjamini-Hochberg at 5 % across the report's family of behind-path
    alerts (``p_value`` raw anytime, ``p_adjusted`` adjusted) —, ``low`` when it could still
    be noise (with 30 departments on their paths, about 15 are below by chance every week).
``registration_stragglers``
    Employees not registered ``grace_days`` or more after their department went live (or
    they were hired): a count per department and company-wide. The names are in the
    restricted :func:`wecom_eval.kpis.registration.stragglers` list, never here.
``no_data``
    A department with registered members but no member-day rows this week (a missing
    export or a broken pull), or no rows at all company-wide. The number of members is
    left out for a department under the privacy floor.
``sudden_drop``
    A weekly active rate that fell by ``drop_threshold`` or more (absolute) from the week
    before; ``data_drop``: member-day rows per day fell by half or more company-wide.
``data_quality``
    Working days inside the member-activity exports' range (first … last day, up to the
    day) with no row at all: a missing day's export (:mod:`wecom_eval.kpis.coverage`).

Departments hidden by the privacy floor get no KPI alert of their own (their people are in
the company's figures); data-quality alerts name every department, as they describe data,
not people.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from wecom_eval import privacy
from wecom_eval.kpis._base import By, Context, as_date, finish, keys_of
from wecom_eval.kpis.alerts._rows import COLUMNS, KIND_ORDER, MESSAGES, SEVERITY_ORDER, Language
from wecom_eval.kpis.alerts.behind import adjust_behind, behind_path
from wecom_eval.kpis.alerts.data import data_drop, data_quality, no_data, sudden_drops
from wecom_eval.kpis.alerts.stragglers import straggler_alerts
from wecom_eval.kpis.paths import Align, Shape
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.sql import Source
from wecom_eval.workcal import WorkCalendar


def alerts(
    source: Source,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    align: Align = "go_live",
    shape: Shape = "s_curve",
    alpha: float = 0.05,
    grace_days: int = 7,
    drop_threshold: float = 0.15,
    language: Language = "zh",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Every alert on the day ``data_through`` (the last day of data included), most urgent first.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan and its calendar.
    data_through
        The last day of data included (the alerts read the weeks from the rollout's start to the week holding it).
    align, shape, alpha
        As in :func:`wecom_eval.kpis.progress.progress`.
    grace_days
        Days after go-live (or hire) before an unregistered employee counts as a straggler.
    drop_threshold
        The week-over-week fall of the active rate (absolute, 0.15 = 15 points) that raises
        ``sudden_drop``.
    language
        ``"zh"`` (default) or ``"en"`` for the ``message`` column, which names KPIs and
        features with the reports' labels (``核心功能渗透率（文档协作）``, ``Core-feature
        penetration (document collaboration)``), never their codes.

    Returns
    -------
    pandas.DataFrame
        One row per alert: ``kind``, ``severity`` (high / medium / low), ``level`` (company /
        department), ``department_id``, ``group`` (the department's path or 全公司), ``kpi``,
        ``feature``, ``week``, ``value``, ``expected``, ``gap``, ``since_week``,
        ``since_date``, ``count`` (people or rows concerned), ``message``.
    """
    from wecom_eval.kpis.activity import weekly_activity_raw

    if language not in MESSAGES:
        raise ValueError(f"language={language!r}: use 'zh' or 'en'")
    if not 0 < drop_threshold < 1:
        raise ValueError(f"drop_threshold must be between 0 and 1 (0.15 = 15 points), got {drop_threshold}")
    ctx = Context.of(source, plan, cal)
    day = as_date(data_through, name="data_through")
    floor = privacy.floor(plan)
    if day < plan.start_date:
        return finish(pd.DataFrame(columns=COLUMNS), notes=ctx.notes())
    week = (day - plan.start_date).days // 7 + 1
    rows = []
    levels: tuple[By, ...] = ("company", "department")
    for level in levels:
        keys = keys_of(level)
        act_raw = weekly_activity_raw(ctx, start=plan.start_date, end=day, by=level)
        act = privacy.suppress(act_raw, size="registered_week", by=keys, within=["week"], min_group_size=floor)
        rows += behind_path(ctx, level, day=day, act=act, align=align, shape=shape, alpha=alpha, language=language)
        rows += sudden_drops(act, level, keys, week=week, drop_threshold=drop_threshold, language=language)
        rows += no_data(act_raw, level, week=week, floor=floor, language=language)
        if level == "company":
            rows += data_drop(act_raw, week=week, language=language)
    rows += straggler_alerts(ctx, day=day, grace_days=grace_days, language=language)
    rows += data_quality(ctx, day=day, language=language)
    return finish(_ordered(adjust_behind(pd.DataFrame(rows, columns=COLUMNS), alpha=alpha)), notes=ctx.notes())


def _ordered(out: pd.DataFrame) -> pd.DataFrame:
    """Typed columns, most urgent first: severity, kind, the company before departments, the largest gap."""
    for col in ("department_id", "week", "since_week", "count"):
        out[col] = out[col].astype("Int64")
    for col in ("value", "expected", "gap"):
        out[col] = out[col].astype(float)
    if len(out):
        out = out.assign(
            _s=out["severity"].map(SEVERITY_ORDER),
            _k=out["kind"].map(KIND_ORDER),
            _g=out["gap"].fillna(0.0),
            _l=np.where(out["level"] == "company", 0, 1),
        )
        out = out.sort_values(["_s", "_k", "_l", "_g", "group"], ignore_index=True)
        out = out.drop(columns=["_s", "_k", "_g", "_l"])
    return out


__all__ = ["COLUMNS", "Language", "alerts"]
