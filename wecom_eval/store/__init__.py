"""The store: the canonical tables, the DuckDB warehouse, raw landing, validation, the one load path.

One module per job: :mod:`~wecom_eval.store.schema` (the tables and their rules),
:mod:`~wecom_eval.store.validate` (rows checked against them), :mod:`~wecom_eval.store.raw`
(inputs kept byte for byte), :mod:`~wecom_eval.store.warehouse` (connections and the load
transaction) with :mod:`~wecom_eval.store.upsert` (one table staged and upserted),
:mod:`~wecom_eval.store.member_days` (member days stored with integer keys) and
:mod:`~wecom_eval.store.engine` (DuckDB settings); :mod:`~wecom_eval.store.load` (the load
path every source takes: land, validate and load, refresh), which refreshes
:mod:`~wecom_eval.store.activation` (members' activation dates, redating the members
:mod:`~wecom_eval.store.activation_pending` says loads touched) and
:mod:`~wecom_eval.store.rollups` (pre-folded activity, SQL in :mod:`~wecom_eval.store.rollup_sql`);
:mod:`~wecom_eval.store.sql` (DuckDB helpers the KPIs share). The sources (ingest, fetch, the
demo) sit above it and import nothing of the KPIs. Names are imported when first used, so
that ``import wecom_eval.store.schema`` does not load DuckDB.
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
