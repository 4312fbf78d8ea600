"""The change of each target's estimate from the previous period's end (the monthly scorecard).

A change is the difference of two estimates of the same KPI (for a share, in points:
0.612 → 0.640 is +0.028, shown +2.8%); it is ``None`` — not measured — when either estimate
is missing, never 0. For feature penetration each estimate is that of the weakest feature
at its own date, so the change says how the weakest point moved.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def change_from_previous(
    current: Iterable[Mapping[Any, Any]], previous: Iterable[Mapping[Any, Any]] | None
) -> dict[str, float | None]:
    """``{kpi: estimate now − estimate at the previous period's end}`` for each row of ``current``.

    ``current`` and ``previous`` are scorecard rows (``kpi``, ``estimate``); ``previous`` is
    ``None`` when there was no previous period (before the rollout started).
    """
    before = {str(r["kpi"]): _number(r.get("estimate")) for r in previous or ()}
    out: dict[str, float | None] = {}
    for row in current:
        now, then = _number(row.get("estimate")), before.get(str(row["kpi"]))
        out[str(row["kpi"])] = None if now is None or then is None else now - then
    return out


__all__ = ["change_from_previous"]
