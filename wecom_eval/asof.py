"""Which days a report can be made for: from the plan's start to a week after the last loaded activity.

A report made before the rollout starts has nothing to measure, and one made long after
the last loaded day reports stale data as if it were current ("推广第252周" on data that
ended years before). Both are refused before any notebook runs, with the valid range;
``--allow-stale`` lets a deliberate late report through.
"""

from __future__ import annotations

import datetime as dt

from wecom_eval.errors import InputError, Problem
from wecom_eval.home import Home
from wecom_eval.plan import RolloutPlan, load_plan
from wecom_eval.store.facts import WarehouseFacts, read_facts

STALE_AFTER = dt.timedelta(days=7)  # a report may come up to a week after the last day of activity data


def last_activity_day(home: Home) -> dt.date | None:
    """The last day of activity (member_days) in the warehouse; None without a warehouse or rows."""
    return read_facts(home.warehouse).last_activity


def check_as_of(
    home: Home,
    as_of: dt.date,
    *,
    allow_stale: bool = False,
    plan: RolloutPlan | None = None,
    facts: WarehouseFacts | None = None,
) -> None:
    """Raise :class:`InputError` (exit 2) when no report can be made for ``as_of``.

    Valid: from the plan's ``start_date`` to :data:`STALE_AFTER` after the last day of
    activity loaded (no upper bound while no activity is loaded, or with ``allow_stale``).
    ``plan`` and ``facts``, when the caller has read them already (``wecom-eval run``'s
    checks), spare reading the plan and opening the warehouse again.
    """
    start = (plan or load_plan(home.plan)).start_date
    last = (facts or read_facts(home.warehouse)).last_activity
    upper = f"{last + STALE_AFTER}" if last is not None else "any later day (no activity loaded yet)"
    valid = f"a day from {start} (the plan's start) to {upper}"
    if as_of < start:
        raise InputError(
            "options",
            [
                Problem(
                    "--as-of",
                    as_of.isoformat(),
                    valid,
                    "The rollout has not started on that day; pick a day in the range.",
                )
            ],
        )
    if last is not None and as_of > last + STALE_AFTER and not allow_stale:
        raise InputError(
            "options",
            [
                Problem(
                    "--as-of",
                    as_of.isoformat(),
                    f"{valid}, a week after the last day of activity loaded ({last})",
                    "Load the newer exports first (`wecom-eval ingest activity …` or `wecom-eval fetch`), "
                    "pick a day in the range, or pass --allow-stale to report on the old data anyway.",
                )
            ],
        )
