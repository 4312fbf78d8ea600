"""Reports: typed parameters, the papermill runner, and what a meeting reads.

Notebooks call :func:`open_report` and show their tables and figures through the
:class:`Report` it returns; :func:`run_report` and :func:`run_all` execute notebooks and
publish ``reports/<report>/<as_of>/`` (HTML, Excel, kpis.json, manifest, slide deck).
"""

from __future__ import annotations

from wecom_eval.reporting.collect import Report, open_report
from wecom_eval.reporting.params import REPORTS, ReportParams, load_params, validate_params
from wecom_eval.reporting.runner import RunResult, run_all, run_report

__all__ = [
    "REPORTS",
    "Report",
    "ReportParams",
    "RunResult",
    "load_params",
    "open_report",
    "run_all",
    "run_report",
    "validate_params",
]
