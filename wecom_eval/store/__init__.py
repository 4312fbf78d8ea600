"""The store: the canonical tables, the DuckDB warehouse, raw landing and validation.

One module per job: :mod:`~wecom_eval.store.schema` (the tables and their rules),
:mod:`~wecom_eval.store.validate` (rows checked against them), :mod:`~wecom_eval.store.raw`
(inputs kept byte for byte), :mod:`~wecom_eval.store.warehouse` (connections and
transactional, idempotent loads). The sources (ingest, fetch, the demo) sit above it.
Names are imported when first used, so that ``import wecom_eval.store.schema`` does not
load DuckDB.
"""

from __future__ import annotations

import typing

from wecom_eval import _lazy

if typing.TYPE_CHECKING:
    from wecom_eval.store.upsert import LoadResult
    from wecom_eval.store.warehouse import Warehouse, open_reader, open_writer

__getattr__ = _lazy.lazy_exports(
    __name__,
    {"upsert": ("LoadResult",), "warehouse": ("Warehouse", "open_reader", "open_writer")},
    globals(),
)

__all__ = ["LoadResult", "Warehouse", "open_reader", "open_writer"]
