"""Alerts about the data and sudden changes: ``sudden_drop``, ``no_data``, ``data_drop``,
``data_quality`` (package docstring)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from wecom_eval.kpis._base import COMPANY, Context
from wecom_eval.kpis.alerts._rows import MESSAGES, Language, alert, label, records


def sudden_drops(
    act: pd.DataFrame, level: str, keys: list[str], *, week: int, drop_threshold: float, language: Language
) -> list[dict[str, Any]]:
    """A visible group's active rate that fell by ``drop_threshold`` or more from its last measured week."""
    rows = []
    visible = act.loc[~act["suppressed"]]
    for _key, g in visible.groupby(keys, sort=False) if keys else [((), visible)]:
        g = g.loc[g["active_rate"].notna()].sort_values("week")  # the last two measured weeks
        if len(g) < 2 or int(g["week"].iloc[-1]) != week:
            continue
        now, before = g["active_rate"].iloc[-1], g["active_rate"].iloc[-2]
        if before - now < drop_threshold:
            continue
        rec = records(g.iloc[[-1]])[0]
        dep_id, group = label(rec, level)
        message = MESSAGES[language]["sudden_drop"].format(
            group=group + ("" if language == "en" else " "), value=now, expected=before, gap_pp=100 * (before - now)
        )
        rows.append(
            alert(
                "sudden_drop",
                "medium",
                level,
                dep_id,
                group,
                kpi="active_rate",
                week=week,
                value=float(now),
                expected=float(before),
                gap=float(now - before),
                since_week=week,
                since_date=rec["week_start"],
                count=int(rec["registered_week"]),
                message=message,
            )
        )
    return rows


def no_data(act_raw: pd.DataFrame, level: str, *, week: int, floor: int, language: Language) -> list[dict[str, Any]]:
    """A group with registered members but no member-day rows in ``week`` (its size hidden under ``floor``)."""
    rows = []
    for rec in records(act_raw.loc[act_raw["week"] == week]):
        if rec["registered_week"] > 0 and rec["member_day_rows"] == 0:
            dep_id, group = label(rec, level)
            people = int(rec["registered_week"])
            size: int | None = people if people >= floor else None  # a small group's size stays hidden
            template = MESSAGES[language]["no_data" if size is not None else "no_data_small"]
            message = template.format(group=group + ("" if language == "en" else " "), week=week, count=size)
            rows.append(
                alert(
                    "no_data",
                    "high",
                    level,
                    dep_id,
                    group,
                    week=week,
                    since_week=week,
                    since_date=rec["week_start"],
                    count=size,
                    message=message,
                )
            )
    return rows


def data_drop(act_raw: pd.DataFrame, *, week: int, language: Language) -> list[dict[str, Any]]:
    """Company-wide member-day rows per day halved (or worse) from the last week with working days."""
    g = act_raw.loc[act_raw["working_days"] > 0].sort_values("week")  # holiday weeks are not compared
    if len(g) < 2 or int(g["week"].iloc[-1]) != week:
        return []
    days = [(pd.Timestamp(e) - pd.Timestamp(s)).days + 1 for s, e in zip(g["week_start"], g["week_end"], strict=True)]
    now = g["member_day_rows"].iloc[-1] / days[-1]
    before = g["member_day_rows"].iloc[-2] / days[-2]
    if not (before > 0 and 0 < now <= before / 2):
        return []
    message = MESSAGES[language]["data_drop"].format(value=now, expected=before)
    return [
        alert(
            "data_drop",
            "high",
            "company",
            None,
            COMPANY,
            week=week,
            value=float(now),
            expected=float(before),
            gap=float(now - before),
            since_week=week,
            since_date=g["week_start"].iloc[-1],
            count=int(g["member_day_rows"].iloc[-1]),
            message=message,
        )
    ]


def data_quality(ctx: Context, *, day: dt.date, language: Language) -> list[dict[str, Any]]:
    """Working days inside the activity exports' range (up to ``day``) with no row at all."""
    from wecom_eval.kpis.coverage import source_coverage

    gaps = source_coverage(ctx.con, ctx.plan, end=day, cal=ctx.cal, sources=["activity"])
    missing = gaps["missing_days"].iloc[0]
    if not missing:
        return []
    days = missing.split(", ")
    return [
        alert(
            "data_quality",
            "high",
            "company",
            None,
            COMPANY,
            count=len(days),
            since_date=dt.date.fromisoformat(days[0]),
            message=MESSAGES[language]["data_quality"].format(count=len(days), days=missing),
        )
    ]


__all__ = ["data_drop", "data_quality", "no_data", "sudden_drops"]
