"""The privacy floor of a report table: rows describing fewer people than the plan's
``min_group_size`` are hidden, with a sibling when one hidden row could be worked out from a total."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from wecom_eval import privacy

# Columns that identify a row rather than describe its people; never hidden.
KEY_COLUMNS = frozenset(
    {
        "department",
        "department_id",
        "department_path",
        "path",
        "branch",
        "week",
        "week_start",
        "date",
        "month",
        "feature",
        "item",
        "wave",
        "question",
        "choice",
        "kpi",
        "is_pilot",
        "go_live_week",
        "rank_group",
        "level",
    }
)
SUPPRESSED_TEXT = "—"


def enforce_floor(
    frame: pd.DataFrame, *, people: str, floor: int, keys: Iterable[str] = (), within: Sequence[str] = ()
) -> tuple[pd.DataFrame, int]:
    """Hide rows of ``frame`` that describe fewer than ``floor`` people, with their siblings.

    Applies :func:`wecom_eval.privacy.suppress` (small groups, then complementary
    suppression so that a hidden value cannot be worked out from a total). Key columns
    (``keys`` and the usual :data:`KEY_COLUMNS`) stay visible; every other column,
    ``people`` included, is blanked in hidden rows. Rows hidden before (a KPI function's
    ``suppressed`` flag, or a blank ``people``) stay hidden and are protected by their
    siblings like any small group. Returns the new frame (without the
    ``suppressed``/``suppression`` flags) and the number of hidden rows; ``frame`` is not
    changed.

    Examples
    --------
    >>> df = pd.DataFrame({"department": ["A", "B", "C"], "n": [3, 6, 40], "rate": [1.0, 0.5, 0.7]})
    >>> out, hidden = enforce_floor(df, people="n", floor=5)
    >>> hidden, out["rate"].isna().tolist()
    (2, [True, True, False])
    """
    if people not in frame.columns:
        raise ValueError(f"people={people!r} is not a column of the table; columns are {list(frame.columns)}")
    work = frame.reset_index(drop=True)
    # Rows hidden before (flagged by a KPI function, or whose number of people was left blank)
    # take part in complementary suppression like any small group.
    earlier = work[people].isna().to_numpy()
    if "suppressed" in work:
        earlier = earlier | work["suppressed"].fillna(False).astype(bool).to_numpy()
    work = work.drop(columns=[c for c in ("suppressed", "suppression") if c in work.columns])
    labels = [c for c in work.columns if (c in KEY_COLUMNS or c in set(keys)) and c != people]
    by = [c for c in labels if c not in within]
    out = privacy.suppress(
        work,
        size=people,
        by=by,
        within=list(within),
        min_group_size=floor,
        keep=[c for c in labels if c not in by],
        hidden_before=earlier,
    )
    hidden = out.pop("suppressed").to_numpy(dtype=bool)
    out = out.drop(columns=["suppression"])
    return out, int(hidden.sum())


def protect(
    frame: pd.DataFrame,
    *,
    name: str,
    people: str | int | None,
    floor: int,
    keys: Sequence[str] = (),
    within: Sequence[str] = (),
) -> tuple[pd.DataFrame, int]:
    """Table ``name`` as a report may show it, and its number of hidden rows.

    ``people`` is the column with each row's number of people (rows under ``floor`` are
    hidden by :func:`enforce_floor`), one number for the whole table (under ``floor``: the
    table cannot be shown), or None for a table about no one. A restricted named list is
    never shown.
    """
    if privacy.is_restricted(frame):
        raise ValueError(
            f"table {name!r} is a restricted named list ({frame.attrs.get('wecom_eval_restricted')}); "
            "named lists never go into meeting reports — write it to its own restricted file"
        )
    shown = frame.reset_index(drop=True)
    hidden = 0
    if isinstance(people, str):
        shown, hidden = enforce_floor(shown, people=people, floor=floor, keys=keys, within=within)
    elif isinstance(people, (int, np.integer)) and not isinstance(people, bool):
        if people < floor:
            raise ValueError(
                f"table {name!r} describes {people} people, fewer than the privacy floor "
                f"({floor}); it cannot be shown in a report"
            )
    elif people is not None:
        raise ValueError(f"people must be a column name, a number or None, got {people!r}")
    return shown.drop(columns=[c for c in ("suppressed", "suppression") if c in shown.columns]), hidden


__all__ = ["KEY_COLUMNS", "SUPPRESSED_TEXT", "enforce_floor", "protect"]
