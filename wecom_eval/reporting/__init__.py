"""Reports: typed parameters, the papermill runner, and what a meeting reads.

Notebooks call :func:`open_report` and show their tables and figures through the
:class:`Report` it returns; :func:`run_report` and :func:`run_all` execute notebooks and
publish ``reports/<report>/<as_of>/`` (HTML, Excel, kpis.json, manifest, slide deck).
"""

from __future__ import annotations

import typing

from wecom_eval import _lazy

if typing.TYPE_CHECKING:
    from wecom_eval.reporting.collect import Report, open_report
    from wecom_eval.reporting.jobs import RunResult
    from wecom_eval.reporting.params import ReportParams, load_params, validate_params
    from wecom_eval.reporting.registry import ReportSpec
    from wecom_eval.reporting.runner import run_all, run_report

# imported on first use: `wecom-eval run` reads the parameters without loading pandas
__getattr__ = _lazy.lazy_exports(
    __name__,
    {
        "collect": ("Report", "open_report"),
        "params": ("ReportParams", "load_params", "validate_params"),
        "registry": ("ReportSpec",),
        "jobs": ("RunResult",),
        "runner": ("run_all", "run_report"),
    },
    globals(),
)

__all__ = [
    "Report",
    "ReportParams",
    "ReportSpec",
    "RunResult",
    "load_params",
    "open_report",
    "run_all",
    "run_report",
    "validate_params",
]
