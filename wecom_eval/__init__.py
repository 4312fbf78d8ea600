"""wecom-eval: the evaluation workbook for a WeCom (企业微信) rollout.

The names users call are re-exported here; everything else lives in its own module. They
are imported when first used, so that ``import wecom_eval.<module>`` (every command, every
report's first cell) pays only for what it uses.
"""

from __future__ import annotations

import typing

from wecom_eval import _lazy

if typing.TYPE_CHECKING:
    from wecom_eval.errors import InputError, LockBusy, NotebookError, Problem, SourceError, WecomEvalError
    from wecom_eval.home import Home
    from wecom_eval.plan import RolloutPlan, load_plan
    from wecom_eval.store.upsert import LoadResult
    from wecom_eval.store.warehouse import Warehouse, open_reader, open_writer
    from wecom_eval.workcal import WorkCalendar

__getattr__ = _lazy.lazy_exports(
    __name__,
    {
        "errors": ("InputError", "LockBusy", "NotebookError", "Problem", "SourceError", "WecomEvalError"),
        "home": ("Home",),
        "plan": ("RolloutPlan", "load_plan"),
        "store.upsert": ("LoadResult",),
        "store.warehouse": ("Warehouse", "open_reader", "open_writer"),
        "workcal": ("WorkCalendar",),
    },
    globals(),
)

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
