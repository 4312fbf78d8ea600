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
import math
from typing import Any, Literal

import numpy as np
import pandas as pd

from wecom_eval import privacy, text
from wecom_eval.kpis._base import COMPANY, By, Context, Source, as_date, finish, keys_of, week_ends
from wecom_eval.kpis.paths import Align, Shape, first_days, path_value
from wecom_eval.kpis.verdicts import judge, look_of, planned_looks
from wecom_eval.plan import RolloutPlan
from wecom_eval.workcal import WorkCalendar

Language = Literal["zh", "en"]
COLUMNS = [
    "kind",
    "severity",
    "level",
    "department_id",
    "group",
    "kpi",
    "feature",
    "week",
    "value",
    "expected",
    "gap",
    "since_week",
    "since_date",
    "count",
    "message",
    "p_value",
    "p_adjusted",
]
MESSAGES = {
    "zh": {
        "behind_path": "{group}{what}为 {value:.1%}，低于目标路径 {expected:.1%}（差 {gap_pp:.1f} 个百分点），"
        "自第 {since_week} 周起落后",
        "registration_stragglers": "{group}有 {count} 名员工在上线 {grace} 天后仍未注册",
        "no_data": "{group}第 {week} 周没有任何活跃数据（{count} 名已注册成员）：请检查数据导出或接口拉取",
        "no_data_small": "{group}第 {week} 周没有任何活跃数据：请检查数据导出或接口拉取",
        "sudden_drop": "{group}日活跃率由上周的 {expected:.1%} 降至 {value:.1%}（下降 {gap_pp:.1f} 个百分点）",
        "data_drop": "全公司每日活跃数据行数由上周的 {expected:,.0f} 降至 {value:,.0f}：可能缺少数据来源",
        "data_quality": "成员活跃度数据缺少 {count} 个工作日（{days}）：请补导这些日期的导出",
    },
    "en": {
        "behind_path": "{group}: {what} is {value:.1%}, below its target path {expected:.1%} "
        "({gap_pp:.1f} points short), behind since week {since_week}",
        "registration_stragglers": "{group}: {count} employees not registered {grace} days after go-live",
        "no_data": "{group}: no activity data in week {week} ({count} registered members): check the export "
        "or the pull",
        "no_data_small": "{group}: no activity data in week {week}: check the export or the pull",
        "sudden_drop": "{group}: daily active rate fell from {expected:.1%} last week to {value:.1%} "
        "({gap_pp:.1f} points)",
        "data_drop": "company-wide member-day rows per day fell from {expected:,.0f} last week to {value:,.0f}: "
        "a source may be missing",
        "data_quality": "member activity data is missing {count} working day(s) ({days}): ingest the exports "
        "of those days",
    },
}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
KIND_ORDER = {
    "no_data": 0,
    "data_quality": 1,
    "data_drop": 1,
    "behind_path": 2,
    "sudden_drop": 3,
    "registration_stragglers": 4,
}


def _what(kpi: str, feature: str | None, language: str) -> str:
    """The KPI (and feature) as the reports name them: ``核心功能渗透率（文档协作）``.

    The names come from the reports' one string table (``wecom_eval/strings.yaml``:
    ``targets`` for the KPIs, ``features`` for the core features), so that an alert reads
    like the tables and figures beside it; a code the table does not hold shows as is.
    """
    name = text.lookup("targets", kpi, language)
    if not feature:
        return name
    label = text.lookup("features", feature, language)
    return f"{name}（{label}）" if language == "zh" else f"{name} ({label})"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _label(rec: dict[str, Any], level: str) -> tuple[Any, str]:
    if level == "department":
        return int(rec["department_id"]), str(rec["department"])
    return None, COMPANY


def _alert(kind: str, severity: str, level: str, department_id: Any, group: str, **fields: Any) -> dict[str, Any]:
    row = dict.fromkeys(COLUMNS)
    row.update(kind=kind, severity=severity, level=level, department_id=department_id, group=group)
    row.update(fields)
    return row


def _behind(
    series: list[dict[str, Any]],
    *,
    kpi: str,
    level: str,
    census: bool,
    alpha: float,
    plan: RolloutPlan,
    first: dt.date,
    shape: Shape,
) -> dict[str, Any] | None:
    """An alert when the last point of a weekly series is below the path, else None."""
    points = [
        p
        for p in series
        if p["date"] >= first and p["estimate"] is not None and not math.isnan(p["estimate"]) and p["n"] > 0
    ]
    if not points or points[-1]["week"] != series[-1]["week"]:
        return None
    flags = []
    for p in points:
        p["path"] = path_value(plan, kpi, p["date"], first_day=first, shape=shape)
        flags.append(p["estimate"] < p["path"] - 1e-12)
    if not flags[-1]:
        return None
    k = len(flags) - 1  # back to the first of the unbroken run of weeks behind (unmeasured weeks skipped)
    while k > 0 and flags[k - 1]:
        k -= 1
    last = points[-1]
    shown = judge(
        successes=last["successes"],
        n=last["n"],
        value=last["path"],
        census=census,
        alpha=alpha,
        look=look_of(plan, last["date"]),
        planned_looks=planned_looks(plan),
    )
    return {
        "value": last["estimate"],
        "expected": last["path"],
        "gap": last["estimate"] - last["path"],
        "week": last["week"],
        "since_week": points[k]["week"],
        "since_date": points[k]["week_start"],
        "severity": "high" if shown["verdict"] == "missed" else "low",
        "count": int(round(last["n"])),
        "p_value": shown["p_less"],
    }


def _adjust_behind(out: pd.DataFrame, *, alpha: float) -> pd.DataFrame:
    """Benjamini-Hochberg over the report's behind-path alerts that rest on a sample.

    The family is every ``behind_path`` alert with a p-value (registration counts the whole
    roster and has none: its shortfall is a fact). ``p_value`` is the anytime p-value of
    "at or above the path" from the weekly confidence sequence; an alert is ``high`` only
    when its adjusted p-value is at most ``alpha``, otherwise ``low`` (below the path, but
    within what chance gives across this many groups).
    """
    from wecom_eval.stats import benjamini_hochberg

    out["p_value"] = out["p_value"].astype(float)
    out["p_adjusted"] = math.nan
    tested = (out["kind"] == "behind_path") & out["p_value"].notna()
    if tested.any():
        res = benjamini_hochberg(out.loc[tested, "p_value"].to_numpy(), alpha=alpha)
        out.loc[tested, "p_adjusted"] = res.p_adjusted
        out.loc[tested, "severity"] = np.where(res.reject, "high", "low")
    return out


def alerts(
    source: Source,
    plan: RolloutPlan,
    *,
    as_of: dt.date,
    align: Align = "go_live",
    shape: Shape = "s_curve",
    alpha: float = 0.05,
    grace_days: int = 7,
    drop_threshold: float = 0.15,
    language: Language = "zh",
    cal: WorkCalendar | None = None,
) -> pd.DataFrame:
    """Every alert as of ``as_of``, most urgent first.

    Parameters
    ----------
    source, plan, cal
        The warehouse, the rollout plan and its calendar.
    as_of
        Today (the alerts read the weeks from the rollout's start to the week holding it).
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
    from wecom_eval.kpis.coverage import has_member_source, source_coverage
    from wecom_eval.kpis.penetration import penetration_raw
    from wecom_eval.kpis.registration import registration_raw, stragglers

    if language not in MESSAGES:
        raise ValueError(f"language={language!r}: use 'zh' or 'en'")
    if not 0 < drop_threshold < 1:
        raise ValueError(f"drop_threshold must be between 0 and 1 (0.15 = 15 points), got {drop_threshold}")
    ctx = Context.of(source, plan, cal)
    as_of = as_date(as_of, name="as_of")
    floor = privacy.floor(plan)
    rows: list[dict[str, Any]] = []
    if as_of < plan.start_date:
        return finish(pd.DataFrame(columns=COLUMNS), notes=ctx.notes())
    ends = week_ends(plan, plan.start_date, as_of)

    levels: tuple[By, ...] = ("company", "department")
    for level in levels:
        keys = keys_of(level)
        starts = first_days(ctx, level, align=align)

        def first_of(rec: dict[str, Any], starts: dict[Any, dt.date] = starts, level: str = level) -> dt.date:
            return starts.get(int(rec["department_id"]), plan.start_date) if level == "department" else plan.start_date

        series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        groups: dict[tuple[Any, ...], dict[str, Any]] = {}

        reg = privacy.suppress(
            registration_raw(ctx, as_of=ends, by=level),
            size="employees",
            by=keys,
            within=["as_of"],
            min_group_size=floor,
        )
        for rec in _records(reg.loc[~reg["suppressed"]]):
            key = ("registration", None, *(rec[k] for k in keys))
            groups[key] = rec
            series.setdefault(key, []).append(
                {
                    "date": rec["as_of"],
                    "week": (rec["as_of"] - plan.start_date).days // 7 + 1,
                    "week_start": plan.week_start((rec["as_of"] - plan.start_date).days // 7 + 1),
                    "estimate": float(rec["registration_rate"]),
                    "successes": float(rec["registered"]),
                    "n": float(rec["employees"]),
                }
            )

        act_raw = weekly_activity_raw(ctx, start=plan.start_date, end=as_of, by=level)
        act = privacy.suppress(act_raw, size="registered_week", by=keys, within=["week"], min_group_size=floor)
        for rec in _records(act.loc[~act["suppressed"]]):
            for kpi, rate, n in (
                ("active_rate", "active_rate", "registered_mean"),
                ("engaged_rate", "engaged_rate", "measured_mean"),
            ):
                key = (kpi, None, *(rec[k] for k in keys))
                groups[key] = rec
                est = rec[rate]
                est = math.nan if est is None or pd.isna(est) else float(est)
                n_val = 0.0 if rec[n] is None or pd.isna(rec[n]) else float(rec[n])
                series.setdefault(key, []).append(
                    {
                        "date": rec["week_end"],
                        "week": int(rec["week"]),
                        "week_start": rec["week_start"],
                        "estimate": est,
                        "successes": est * n_val if n_val else math.nan,
                        "n": n_val,
                    }
                )

        pen = privacy.suppress(
            penetration_raw(ctx, as_of=ends, by=level),
            size="eligible",
            by=keys,
            within=["feature", "as_of"],
            min_group_size=floor,
        )
        for rec in _records(pen.loc[~pen["suppressed"] & (pen["eligible"] > 0)]):
            key = ("feature_penetration", rec["feature"], *(rec[k] for k in keys))
            groups[key] = rec
            week = (rec["as_of"] - plan.start_date).days // 7 + 1
            series.setdefault(key, []).append(
                {
                    "date": rec["as_of"],
                    "week": week,
                    "week_start": plan.week_start(week),
                    "estimate": float(rec["penetration"]),
                    "successes": float(rec["users"]),
                    "n": float(rec["eligible"]),
                }
            )

        current_week = (as_of - plan.start_date).days // 7 + 1
        for key, points in series.items():
            kpi, feature = key[0], key[1]
            points.sort(key=lambda p: p["week"])
            if points[-1]["week"] != current_week:
                continue
            found = _behind(
                points,
                kpi=kpi,
                level=level,
                census=kpi == "registration",
                alpha=alpha,
                plan=plan,
                first=first_of(groups[key]),
                shape=shape,
            )
            if found is None:
                continue
            dep_id, group = _label(groups[key], level)
            what = _what(kpi, feature, language)
            message = MESSAGES[language]["behind_path"].format(
                group=group if language == "en" else group + " ",
                what=what,
                value=found["value"],
                expected=found["expected"],
                gap_pp=-100 * found["gap"],
                since_week=found["since_week"],
            )
            rows.append(
                _alert(
                    "behind_path",
                    found["severity"],
                    level,
                    dep_id,
                    group,
                    kpi=kpi,
                    feature=feature,
                    week=found["week"],
                    value=found["value"],
                    expected=found["expected"],
                    gap=found["gap"],
                    since_week=found["since_week"],
                    since_date=found["since_date"],
                    count=found["count"],
                    message=message,
                    p_value=found["p_value"],
                )
            )

        # week-over-week drop of the active rate (visible groups only)
        visible = act.loc[~act["suppressed"]]
        for _key, g in visible.groupby(keys, sort=False) if keys else [((), visible)]:
            g = g.loc[g["active_rate"].notna()].sort_values("week")  # the last two measured weeks
            if len(g) < 2 or int(g["week"].iloc[-1]) != current_week:
                continue
            now, before = g["active_rate"].iloc[-1], g["active_rate"].iloc[-2]
            if before - now < drop_threshold:
                continue
            rec = _records(g.iloc[[-1]])[0]
            dep_id, group = _label(rec, level)
            message = MESSAGES[language]["sudden_drop"].format(
                group=group + ("" if language == "en" else " "), value=now, expected=before, gap_pp=100 * (before - now)
            )
            rows.append(
                _alert(
                    "sudden_drop",
                    "medium",
                    level,
                    dep_id,
                    group,
                    kpi="active_rate",
                    week=current_week,
                    value=float(now),
                    expected=float(before),
                    gap=float(now - before),
                    since_week=current_week,
                    since_date=rec["week_start"],
                    count=int(rec["registered_week"]),
                    message=message,
                )
            )

        # data quality: no rows for a department (or the company) with registered members this week
        this_week = act_raw.loc[act_raw["week"] == current_week]
        for rec in _records(this_week):
            if rec["registered_week"] > 0 and rec["member_day_rows"] == 0:
                dep_id, group = _label(rec, level)
                people = int(rec["registered_week"])
                size: int | None = people if people >= floor else None  # a small group's size stays hidden
                template = MESSAGES[language]["no_data" if size is not None else "no_data_small"]
                message = template.format(
                    group=group + ("" if language == "en" else " "), week=current_week, count=size
                )
                rows.append(
                    _alert(
                        "no_data",
                        "high",
                        level,
                        dep_id,
                        group,
                        week=current_week,
                        since_week=current_week,
                        since_date=rec["week_start"],
                        count=size,
                        message=message,
                    )
                )
        worked = act_raw.loc[act_raw["working_days"] > 0].sort_values("week")  # holiday weeks are not compared
        if level == "company" and len(worked) >= 2:
            g = worked
            if int(g["week"].iloc[-1]) == current_week:
                days = [
                    (pd.Timestamp(e) - pd.Timestamp(s)).days + 1
                    for s, e in zip(g["week_start"], g["week_end"], strict=True)
                ]
                now = g["member_day_rows"].iloc[-1] / days[-1]
                before = g["member_day_rows"].iloc[-2] / days[-2]
                if before > 0 and 0 < now <= before / 2:
                    message = MESSAGES[language]["data_drop"].format(value=now, expected=before)
                    rows.append(
                        _alert(
                            "data_drop",
                            "high",
                            "company",
                            None,
                            COMPANY,
                            week=current_week,
                            value=float(now),
                            expected=float(before),
                            gap=float(now - before),
                            since_week=current_week,
                            since_date=g["week_start"].iloc[-1],
                            count=int(g["member_day_rows"].iloc[-1]),
                            message=message,
                        )
                    )

    # registration stragglers: counts only, per visible department and company-wide
    late = stragglers(ctx.con, plan, as_of=as_of, grace_days=grace_days)
    if len(late) and has_member_source(ctx):  # without members registration is not measured: no alert
        reg_now = privacy.suppress(
            registration_raw(ctx, as_of=[as_of], by="department"),
            size="employees",
            by=["department_id"],
            within=["as_of"],
            keep=["department"],
            min_group_size=floor,
        )
        visible_ids = set(reg_now.loc[~reg_now["suppressed"], "department_id"].astype(int))
        total = len(late)
        rows.append(
            _alert(
                "registration_stragglers",
                "medium",
                "company",
                None,
                COMPANY,
                kpi="registration",
                count=total,
                message=MESSAGES[language]["registration_stragglers"].format(
                    group=COMPANY + ("" if language == "en" else " "), count=total, grace=grace_days
                ),
            )
        )
        counts = late.groupby(["department_id", "department"], as_index=False).size()
        for dep_id, dep, n in zip(counts["department_id"], counts["department"], counts["size"], strict=True):
            if int(dep_id) in visible_ids:
                rows.append(
                    _alert(
                        "registration_stragglers",
                        "medium",
                        "department",
                        int(dep_id),
                        str(dep),
                        kpi="registration",
                        count=int(n),
                        message=MESSAGES[language]["registration_stragglers"].format(
                            group=str(dep) + ("" if language == "en" else " "), count=int(n), grace=grace_days
                        ),
                    )
                )

    # gaps: working days inside the activity exports' range with no row at all
    gaps = source_coverage(ctx.con, plan, end=as_of, cal=ctx.cal, sources=["activity"])
    missing = gaps["missing_days"].iloc[0]
    if missing:
        days = missing.split(", ")
        rows.append(
            _alert(
                "data_quality",
                "high",
                "company",
                None,
                COMPANY,
                count=len(days),
                since_date=dt.date.fromisoformat(days[0]),
                message=MESSAGES[language]["data_quality"].format(count=len(days), days=missing),
            )
        )

    out = _adjust_behind(pd.DataFrame(rows, columns=COLUMNS), alpha=alpha)
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
    return finish(out, notes=ctx.notes())


__all__ = ["alerts"]
