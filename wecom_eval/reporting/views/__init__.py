"""What the report notebooks show, section by section: frames, figures and sentences.

Each function takes the open :class:`~wecom_eval.reporting.collect.Report` and returns what
one section of a notebook displays — a tidy frame for ``report.show_table``, a figure for
``report.show_figure``, or a markdown sentence for ``report.note`` — from what the KPI
(:mod:`wecom_eval.kpis`) and statistics (:mod:`wecom_eval.stats`) packages compute: the views
format, they do not compute. What two notebooks share lives here, so the notebooks stay a
heading, a sentence and a call or two. One module per part of the reports:
:mod:`.adoption` (the five targets, registration, activity, features, alerts, points,
support, reconciliation), :mod:`.pilot`, :mod:`.survey` and :mod:`.reviews` (monthly and
promotion reviews); the notebooks call them as ``views.<name>``.
"""

from __future__ import annotations

from wecom_eval.reporting.views._common import SHARE, p_text, title, v
from wecom_eval.reporting.views.adoption import (
    activity_by_department,
    activity_trend,
    activity_trend_figure,
    alert_table,
    department_status,
    feature_figure,
    feature_gaps,
    feature_status,
    headline,
    points_table,
    reconciliation,
    registration_basis_note,
    registration_trend_figure,
    support_table,
    targets,
)
from wecom_eval.reporting.views.pilot import (
    MAX_WEEKS,
    efficiency_evidence,
    efficiency_sentence,
    pilot_status,
    power,
    show_met_probability,
)
from wecom_eval.reporting.views.reviews import (
    best_department,
    branch_trend_figure,
    deadline_status,
    lagging,
    month_over_month,
    registration_deadline,
)
from wecom_eval.reporting.views.survey import needs, needs_figure, survey

__all__ = [
    "MAX_WEEKS",
    "SHARE",
    "activity_by_department",
    "activity_trend",
    "activity_trend_figure",
    "alert_table",
    "best_department",
    "branch_trend_figure",
    "deadline_status",
    "department_status",
    "efficiency_evidence",
    "efficiency_sentence",
    "feature_figure",
    "feature_gaps",
    "feature_status",
    "headline",
    "lagging",
    "month_over_month",
    "needs",
    "needs_figure",
    "p_text",
    "pilot_status",
    "points_table",
    "power",
    "reconciliation",
    "registration_basis_note",
    "registration_deadline",
    "registration_trend_figure",
    "show_met_probability",
    "support_table",
    "survey",
    "targets",
    "title",
    "v",
]
