"""The one load path every source takes: land raw → validate → load in one transaction → refresh.

Ingest, fetch and the demo each hand their canonical rows to :func:`load`:

1. the inputs are first kept as they arrived in raw landing (:mod:`wecom_eval.store.raw`):
   files byte for byte, records (API pages, the used columns of a file) as JSON lines;
2. the rows are checked against the tables' rules and upserted by natural key, every table in
   **one** transaction (:meth:`~wecom_eval.store.warehouse.Warehouse.load_many`): a problem
   rolls everything back and raises :class:`~wecom_eval.errors.InputError`;
3. what depends on the loaded tables follows (:func:`refresh_dependents`): members' activation dates
   (of the members the loads touched, or everyone's after a load of members or snapshots),
   the feature uses (:mod:`wecom_eval.store.feature_uses`) and the activity rollups — each
   incrementally when only its own rows' days changed, a no-op when nothing it reads changed.

A source that loads many batches (fetch's resumable parts, the demo's chunks) passes
``refresh=False`` to all but its last :func:`load`, or calls :func:`refresh_dependents` once at the end
with the same writer: readers never see wrong figures in between (stale rollups are not read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wecom_eval.plan import RolloutPlan
from wecom_eval.store.activation import date_activations
from wecom_eval.store.feature_uses import refresh_feature_uses
from wecom_eval.store.raw import Landed, land_file, land_records
from wecom_eval.store.rollups import RollupInfo, refresh_rollups
from wecom_eval.store.upsert import LoadResult, Progress, Rows
from wecom_eval.store.warehouse import Warehouse
from wecom_eval.workcal import WorkCalendar


@dataclass(frozen=True)
class RawFile:
    """A file to keep byte for byte (landing the same bytes again keeps the first copy)."""

    path: Path


@dataclass(frozen=True)
class RawRecords:
    """Records to keep as JSON lines in ``<name>.jsonl`` (API pages, a file's used columns)."""

    name: str
    records: Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class Raw:
    """What a load keeps first: ``items`` under ``root/<source>/<day>/`` (``root`` is ``home.raw``)."""

    root: Path
    source: str
    items: Sequence[RawFile | RawRecords]
    day: dt.date | None = None  # default today

    def land(self) -> list[Landed]:
        """Land every item, in order."""
        return [
            land_file(self.root, self.source, item.path, day=self.day)
            if isinstance(item, RawFile)
            else land_records(self.root, self.source, item.name, item.records, day=self.day)
            for item in self.items
        ]


@dataclass(frozen=True)
class Loaded:
    """What one :func:`load` did: per table, per raw item, and the rollups after it."""

    results: dict[str, LoadResult]
    landed: list[Landed] = field(default_factory=list)  # in the order of ``raw.items``
    rollups: RollupInfo | None = None  # None when the load did not refresh

    @property
    def changed(self) -> int:
        """Rows new or changed, over every table."""
        return sum(r.inserted + r.updated for r in self.results.values())


def load(
    wh: Warehouse,
    tables: Mapping[str, Rows],
    *,
    source: str,
    plan: RolloutPlan,
    raw: Raw | None = None,
    refresh: bool = True,
    progress: Progress | None = None,
) -> Loaded:
    """Land ``raw``, then validate and load ``tables`` in one transaction, then refresh.

    Parameters
    ----------
    wh
        A writable warehouse (:func:`~wecom_eval.store.warehouse.open_writer`).
    tables
        Rows per canonical table: a pandas frame, a pyarrow table with the canonical column
        types, or an iterable of either (chunks). Parents are loaded before children.
    source
        Recorded with every table's load (``_loads``): the file names, ``wecom-api``, ``demo``.
    plan
        The rollout plan; the rollups depend on its minimum minutes and start date.
    raw
        What to keep in raw landing before anything is loaded (None: nothing).
    refresh
        Bring the activation dates and rollups up to date after the load (default). A source
        loading many batches passes False for all but the last, or calls :func:`refresh_dependents`.
    progress
        Called with one short line per stage.

    Raises
    ------
    InputError
        Any row against the tables' rules: nothing is loaded (what was landed stays, as it arrived).
    """
    landed = raw.land() if raw is not None else []
    results = wh.load_many(tables, source=source, progress=progress) if tables else {}
    info = refresh_dependents(wh, plan) if refresh else None
    return Loaded(results, landed, info)


def refresh_dependents(
    wh: Warehouse, plan: RolloutPlan, *, cal: WorkCalendar | None = None, force: bool = False
) -> RollupInfo:
    """Bring what depends on the loaded tables up to date: activation dates, the feature uses,
    then the rollups.

    The activation dates come first: the rollups fold them. The feature uses and the rollups
    are left as they are when fresh, unless ``force``; a warehouse written before the feature
    uses existed gets them here. Each step runs in a transaction of its own.
    """
    date_activations(wh)
    refresh_feature_uses(wh, force=force)
    return refresh_rollups(wh, plan, cal=cal, force=force)


__all__ = ["Loaded", "Raw", "RawFile", "RawRecords", "load", "refresh_dependents"]
