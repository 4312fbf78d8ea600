"""Pull a date window from the WeCom API into raw landing and the warehouse, resumably.

``wecom-eval fetch --since DATE --until DATE`` (DESIGN §2, §5, §10), a source beside
:mod:`wecom_eval.ingest` and :mod:`wecom_eval.demo`. One module per job:

* :mod:`~wecom_eval.fetch.run` — :func:`fetch`: checks, the lock, contacts first, then the
  other sources concurrently;
* per endpoint family, what to ask and how to cut it into parts —
  :mod:`~wecom_eval.fetch.contacts` (department/list, user/list),
  :mod:`~wecom_eval.fetch.approvals` (oa/getapprovalinfo, oa/getapprovaldetail),
  :mod:`~wecom_eval.fetch.checkin` (checkin/getcheckindata; locations never land),
  :mod:`~wecom_eval.fetch.customer` (externalcontact get_user_behavior_data),
  :mod:`~wecom_eval.fetch.activity` (security/member_oper_log/list; user/get_active_stat,
  not by default, raw landing only);
* :mod:`~wecom_eval.fetch.mapping` — API rows to canonical tables (pure functions);
* :mod:`~wecom_eval.fetch.reconcile` — what the warehouse knows better than the API;
* :mod:`~wecom_eval.fetch.parts` and :mod:`~wecom_eval.fetch.checkpoint` — the resumable
  parts: every part is checkpointed under ``data/fetch/`` after its pages landed and its
  rows were committed; a rerun skips finished parts, so a crash or a kill loses at most the
  parts in flight, and the upserts by natural key never duplicate a row. A rerun of a
  finished window makes no call at all.
"""

from __future__ import annotations

import typing

from wecom_eval import _lazy

if typing.TYPE_CHECKING:
    from wecom_eval.fetch.mapping import ACTIVITY_SOURCE
    from wecom_eval.fetch.options import DEFAULT_SOURCES, SOURCES, parse_sources
    from wecom_eval.fetch.parts import RAW_SOURCE, FetchReport
    from wecom_eval.fetch.run import fetch

__getattr__ = _lazy.lazy_exports(
    __name__,
    {
        "mapping": ("ACTIVITY_SOURCE",),
        "options": ("DEFAULT_SOURCES", "SOURCES", "parse_sources"),
        "parts": ("FetchReport", "RAW_SOURCE"),
        "run": ("fetch",),
    },
    globals(),
)

__all__ = ["ACTIVITY_SOURCE", "DEFAULT_SOURCES", "RAW_SOURCE", "SOURCES", "FetchReport", "fetch", "parse_sources"]
