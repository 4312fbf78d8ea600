"""wecom-eval: the evaluation workbook for a WeCom (企业微信) rollout.

The names users call are re-exported here; everything else lives in its own module.
"""

from __future__ import annotations

from wecom_eval.errors import InputError, LockBusy, NotebookError, Problem, SourceError, WecomEvalError
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.warehouse import LoadResult, Warehouse, open_reader, open_writer
from wecom_eval.workcal import WorkCalendar

__version__ = "0.1.0"

__all__ = [
    "Home",
    "InputError",
    "LoadResult",
    "LockBusy",
    "NotebookError",
    "Problem",
    "RolloutPlan",
    "SourceError",
    "Warehouse",
    "WecomEvalError",
    "WorkCalendar",
    "load_plan",
    "open_reader",
    "open_writer",
]
