"""The scorecard: the five targets of the rollout plan, each with its estimate, interval and verdict.

This is the one scorecard: every report opens with it and writes it to ``kpis.json``
(:mod:`wecom_eval.kpis.paths` holds the weekly path to a target, not a scorecard). The rows come from:

* ``registration``, ``daily_active``, ``feature_penetration`` — the company's adoption
  figures against their targets (:func:`wecom_eval.kpis.progress.progress`); the daily-active
  target counts active days with at least ``min_daily_minutes``, so its row is the
  **engaged** rate; penetration is judged per core feature and the row shows the weakest
  feature (met only when every feature is met, missed when any is missed);
* ``satisfaction`` — :func:`wecom_eval.kpis.satisfaction.satisfaction_row`;
* ``pilot_efficiency`` — :func:`wecom_eval.kpis.efficiency.pilot_did`.

Interval ends are one-sided 95 % bounds (a two-sided 90 % interval), as the verdict rule
of :mod:`wecom_eval.stats.targets` reads them — except for the adoption rows, which the
reports read every week: their bounds and verdicts are those of the weekly confidence
sequence (:func:`wecom_eval.stats.sequential.spent_alpha`), wider than a one-off interval so
that the chance of *ever* a wrong "met" (or "missed") over all weekly reports stays at 5 %.
``verdict_basis`` says which: ``confidence_sequence:spending``, ``census`` (registration
counts the whole roster), ``fixed_sample:clustered_t`` (satisfaction, one survey wave, clustered by department),
``randomization`` / ``wild_bootstrap`` (the pilot DiD; with ``+spent_alpha`` in the reports that
recur, whose efficiency verdict spends alpha over the weekly looks too), ``none`` (not measured).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from wecom_eval import privacy, text
from wecom_eval.kpis import efficiency
from wecom_eval.kpis._base import Context
from wecom_eval.kpis.change import change_from_previous
from wecom_eval.kpis.coverage import has_member_source
from wecom_eval.kpis.progress import progress
from wecom_eval.kpis.satisfaction import satisfaction_row
from wecom_eval.kpis.verdicts import look_of, planned_looks
from wecom_eval.plan import RolloutPlan
from wecom_eval.store.warehouse import Warehouse

COLUMNS = [
    "kpi",
    "target",
    "deadline",
    "estimate",
    "ci_low",
    "ci_high",
    "confidence",
    "verdict",
    "unit",
    "n",
    "method",
    "note",
    "verdict_basis",
]
CONFIDENCE = 0.90


def _nan_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def reason(key: str, language: str, **fields: object) -> str:
    """Why a target is not measured, in the report's language (``reasons`` in strings.yaml)."""
    return text.lookup("reasons", key, language, **fields)


def not_measured(base: dict[str, Any], note: str) -> dict[str, Any]:
    """A target row with no estimate: ``base`` (id, target, deadline …), the verdict and why."""
    return {
        **base,
        "estimate": None,
        "ci_low": None,
        "ci_high": None,
        "verdict": "not_measured",
        "n": None,
        "method": None,
        "note": note,
        "verdict_basis": "none",
    }


def kpi_note(rec: pd.Series, plan: RolloutPlan, language: str) -> str | None:
    """A KPI scorecard row's note in the report's language, from its codes (``kpi_notes`` in strings.yaml)."""
    codes = _nan_to_none(rec.get("note_codes"))
    if not codes:
        return None
    parts = [
        text.lookup("kpi_notes", code, language, floor=privacy.floor(plan), path_start=rec.get("path_start"))
        for code in str(codes).split(",")
    ]
    return ("；" if language == "zh" else "; ").join(parts)


def _share_row(
    kpi: str,
    rec: pd.Series | None,
    plan: RolloutPlan,
    *,
    target_name: str,
    language: str = "en",
    unmeasured: str = "no_data",
) -> dict[str, Any]:
    target = getattr(plan.targets, target_name)
    base = {
        "kpi": kpi,
        "target": target.target,
        "deadline": plan.deadline(target.deadline_day),
        "unit": "share",
        "confidence": CONFIDENCE,
    }
    if rec is None or _nan_to_none(rec.get("estimate")) is None:
        window = plan.targets.feature_penetration.window_days
        return not_measured(base, reason(unmeasured, language, days=window))
    census = rec.get("method") == "census count"  # registration counts the whole roster: exact, no interval
    return {
        **base,
        "estimate": float(rec["estimate"]),
        "ci_low": None if census else _nan_to_none(rec["ci_low"]),
        "ci_high": None if census else _nan_to_none(rec["ci_high"]),
        "verdict": rec["verdict"] or "not_measured",
        "n": None if pd.isna(rec["n"]) else int(rec["n"]),
        "method": _method(_nan_to_none(rec["method"]), language),
        "note": kpi_note(rec, plan, language),
        "verdict_basis": _nan_to_none(rec.get("verdict_basis")) or "none",
    }


def _method(method: str | None, language: str) -> str | None:
    return None if method is None else text.lookup("methods", method, language)


def adoption_rows(
    warehouse: Warehouse, plan: RolloutPlan, *, data_through: dt.date, language: str = "en"
) -> list[dict[str, Any]]:
    """The registration, daily-active and penetration rows (see the module docstring)."""

    sc = progress(warehouse, plan, data_through=data_through, by="company")
    pick = {k: sc.loc[sc["kpi"] == k] for k in ("registration", "engaged_rate", "feature_penetration")}
    members = has_member_source(Context.of(warehouse, plan))
    rows = [
        _share_row(
            "registration",
            pick["registration"].iloc[0] if len(pick["registration"]) else None,
            plan,
            target_name="registration",
            language=language,
            unmeasured="no_data" if members else "no_members",
        ),
        _share_row(
            "daily_active",
            pick["engaged_rate"].iloc[0] if len(pick["engaged_rate"]) else None,
            plan,
            target_name="daily_active",
            language=language,
            unmeasured="no_activity" if members else "no_members",
        ),
    ]
    features = pick["feature_penetration"].dropna(subset=["estimate"])
    if features.empty:
        rows.append(
            _share_row(
                "feature_penetration",
                None,
                plan,
                target_name="feature_penetration",
                language=language,
                unmeasured="no_feature_events",
            )
        )
    else:
        weakest = features.sort_values("estimate").iloc[0]
        row = _share_row("feature_penetration", weakest, plan, target_name="feature_penetration", language=language)
        verdicts = set(features["verdict"].dropna())
        row["verdict"] = (
            "missed"
            if "missed" in verdicts
            else "met"
            if verdicts == {"met"} and len(features) == len(plan.targets.feature_penetration.features)
            else "not_yet_shown"
        )
        names = [text.lookup("features", str(f), language) for f in features["feature"]]
        weakest_name = text.lookup("features", str(weakest["feature"]), language)
        row["note"] = (
            f"最弱功能：{weakest_name}；" if language == "zh" else f"weakest feature: {weakest_name}; "
        ) + ", ".join(f"{n} {e:.1%}" for n, e in zip(names, features["estimate"], strict=True))
        rows.append(row)
    return rows


def efficiency_target(
    warehouse: Warehouse,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    n_boot: int,
    seed: int,
    inference: str = "auto",
    language: str = "en",
    recurring: bool = True,
) -> dict[str, Any]:
    """The pilot-efficiency row (``not_measured`` until the pilots have records after go-live).

    ``recurring`` reports spend alpha over the plan's weekly looks (the look is the rollout
    week of ``data_through``); a report read once (the deepening review) keeps the one-off level.
    """

    base = {
        "kpi": "pilot_efficiency",
        "target": plan.targets.pilot_efficiency.target,
        "deadline": None,
        "unit": "share",
        "confidence": CONFIDENCE,
    }
    records, bounds = efficiency.launch_records(warehouse, plan, data_through=data_through)
    try:
        result, design = efficiency.pilot_did(
            records, plan, inference=inference, n_boot=n_boot, seed=seed, bounds=bounds
        )
    except ValueError:  # no pilot record after go-live yet, too few departments …
        why = "no_approvals" if bounds.first_day is None else "not_estimable"
        return not_measured(base, reason(why, language))
    looks = {"look": look_of(plan, data_through), "planned_looks": planned_looks(plan)} if recurring else {}
    return {
        **efficiency.efficiency_row(result, plan, design=design, language=language, **looks),
        "confidence": CONFIDENCE,
    }


def five_targets(
    warehouse: Warehouse,
    plan: RolloutPlan,
    *,
    data_through: dt.date,
    n_boot: int = 9999,
    seed: int = 0,
    inference: str = "auto",
    wave: str = "",
    language: str = "en",
    recurring: bool = True,
) -> pd.DataFrame:
    """One row per target of the plan, in the plan's order, ready for ``report.show_targets``.

    ``language`` is that of the ``method`` and ``note`` texts; ``recurring`` see
    :func:`efficiency_target`.
    """

    rows = adoption_rows(warehouse, plan, data_through=data_through, language=language)
    rows.append(
        satisfaction_row(
            warehouse, plan, data_through=data_through, n_boot=n_boot, seed=seed, wave=wave, language=language
        )
    )
    rows.append(
        efficiency_target(
            warehouse,
            plan,
            data_through=data_through,
            n_boot=n_boot,
            seed=seed,
            inference=inference,
            language=language,
            recurring=recurring,
        )
    )
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=COLUMNS)


def with_change(
    frame: pd.DataFrame, warehouse: Warehouse, plan: RolloutPlan, *, since: dt.date, language: str = "en"
) -> pd.DataFrame:
    """``frame`` with a ``change`` column: each adoption target's change since the day ``since``
    (:func:`wecom_eval.kpis.change.change_from_previous`); ``None`` for the survey and pilot
    targets and when ``since`` is before the rollout."""

    previous = (
        None if since < plan.start_date else adoption_rows(warehouse, plan, data_through=since, language=language)
    )
    change = change_from_previous(frame.to_dict("records"), previous)
    out = frame.copy()
    out["change"] = [change[str(k)] for k in out["kpi"]]
    return out


__all__ = [
    "COLUMNS",
    "adoption_rows",
    "efficiency_target",
    "five_targets",
    "kpi_note",
    "reason",
    "with_change",
]
