"""Adoption KPIs (DESIGN §6): registration, activity, penetration, paths and verdicts, alerts,
the best department, points, IT support and the org reconciliation.

Every function takes the warehouse (or its DuckDB connection) and the rollout plan, pushes
the aggregation down to DuckDB (the SQL is in the ``queries*`` modules beside them), and returns a
small tidy pandas frame with stable snake_case columns. Every breakdown passes through
:func:`wecom_eval.privacy.suppress`; named lists (stragglers, the points ledger, the
reconciliation lists) are marked restricted and never belong in a meeting report.

>>> from wecom_eval import kpis
>>> from wecom_eval.store.warehouse import open_reader          # doctest: +SKIP
>>> with open_reader() as wh:                              # doctest: +SKIP
...     weekly = kpis.weekly_activity(wh, plan, start=plan.start_date, end=data_through)
"""

from __future__ import annotations

from wecom_eval.kpis.activity import daily_activity, weekly_activity
from wecom_eval.kpis.alerts import alerts
from wecom_eval.kpis.leaderboard import BestDepartment, best_department
from wecom_eval.kpis.paths import path_share, path_value, target_path
from wecom_eval.kpis.penetration import feature_penetration, penetration_trend
from wecom_eval.kpis.points import points_by_department, points_ledger
from wecom_eval.kpis.progress import progress
from wecom_eval.kpis.reconcile import Reconciliation, reconcile
from wecom_eval.kpis.registration import (
    registration_basis,
    registration_rate,
    registration_trend,
    stragglers,
)
from wecom_eval.kpis.support import it_support

__all__ = [
    "BestDepartment",
    "Reconciliation",
    "alerts",
    "best_department",
    "daily_activity",
    "feature_penetration",
    "it_support",
    "path_share",
    "path_value",
    "penetration_trend",
    "points_by_department",
    "points_ledger",
    "progress",
    "reconcile",
    "registration_basis",
    "registration_rate",
    "registration_trend",
    "stragglers",
    "target_path",
    "weekly_activity",
]
