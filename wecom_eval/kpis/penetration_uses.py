"""Feature penetration per department read from the pre-folded feature uses.

:mod:`wecom_eval.store.feature_uses` keeps, per member, feature and 64-day word, a bitmask of
the days with a use. For as-of dates d₀ < … < dₙ₋₁ (at most 64 at a time) and a window of W
days, the statement below gives each person and feature one 64-bit word of *hits*: bit j set
when a use falls in [dⱼ − W + 1, dⱼ]. A stored word w answers date j with one test,
``days & Rʷⱼ <> 0``, where Rʷⱼ holds the bits of w inside j's window (a constant, so any window
length and any dates work, windows longer than 64 days included: they touch several words).
A person's hits are the OR over their members and words — one row per person and feature,
no DISTINCT. Each person's days on the roster are a run of date bits too (``lo`` … ``hi``), so
the count per department, feature and date is a count of set bits over (department, hits)
groups, and the headcount one over (department, lo, hi) groups.

The result is the department-level relation of the raw statement (:data:`~wecom_eval.kpis.queries.PENETRATION`
grouped by department): the same rows and the same integers (``tests/test_kpis_penetration_uses.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from wecom_eval.kpis import queries as q
from wecom_eval.kpis._base import Context, run
from wecom_eval.store.feature_uses import TABLE, WORD_DAYS, day_number

ALL_BITS = (1 << 64) - 1
Rels = dict[str, pd.DataFrame]

# Who is on the roster when: the columns of the people relations of
# :mod:`wecom_eval.kpis.queries` that penetration reads, without the registration dates.
ROSTER_SPANS = (
    "SELECT employee_id AS person_id, department_id, hire_date AS on_from, leave_date AS on_to FROM employees"
)
MEMBER_SPANS = (
    "SELECT userid AS person_id, department_id, DATE '1900-01-01' AS on_from, CAST(NULL AS DATE) AS on_to "
    "FROM members WHERE status <> 5"
)
SPANS_OF = {q.PEOPLE_FROM_ROSTER: ROSTER_SPANS, q.PEOPLE_FROM_MEMBERS: MEMBER_SPANS}

USES = """
WITH people AS ({people}),
pmap AS ({person_map}),
uses AS (
  SELECT pm.person_id, fu.feature, BIT_OR({hits}) AS hits
  FROM {table} fu JOIN pmap pm ON pm.userid = fu.userid
  WHERE fu.word BETWEEN {word_lo} AND {word_hi} AND fu.feature IN (SELECT feature FROM kpi_features)
  GROUP BY pm.person_id, fu.feature
),
spans AS (
  SELECT person_id, department_id, {lo} AS lo, {hi} AS hi FROM people
),
counted AS (
  SELECT s.department_id, u.feature, u.hits & {span_mask} AS hits, COUNT(*) AS n
  FROM uses u
  JOIN spans s ON s.person_id = u.person_id
  JOIN kpi_eligibility el ON el.department_id = s.department_id AND el.feature = u.feature
  WHERE s.lo < s.hi
  GROUP BY s.department_id, u.feature, u.hits & {span_mask}
)
SELECT c.department_id, c.feature, b.j, CAST(SUM(c.n) AS BIGINT) AS users
FROM counted c JOIN kpi_bits b ON (c.hits & b.bit) <> 0
GROUP BY c.department_id, c.feature, b.j
"""

HEADS = """
WITH people AS ({people}),
spans AS (SELECT department_id, {lo} AS lo, {hi} AS hi FROM people),
grouped AS (SELECT department_id, lo, hi, COUNT(*) AS n FROM spans WHERE lo < hi GROUP BY department_id, lo, hi)
SELECT g.department_id, b.j, CAST(SUM(g.n) AS BIGINT) AS headcount
FROM grouped g JOIN kpi_bits b ON b.j >= g.lo AND b.j < g.hi
GROUP BY g.department_id, b.j
"""


def _ubig(value: int) -> str:
    return f"CAST({value} AS UBIGINT)"


def hits_expression(dates: Sequence[dt.date], window_days: int) -> tuple[str, int, int]:
    """The SQL of a stored row's hits (bit j: a use in date j's window), and the words it reads."""
    numbers = [day_number(d) for d in dates]
    word_lo = (numbers[0] - window_days + 1) // WORD_DAYS
    word_hi = numbers[-1] // WORD_DAYS
    branches = []
    for word in range(word_lo, word_hi + 1):
        first, last = WORD_DAYS * word, WORD_DAYS * word + WORD_DAYS - 1
        terms = []
        for j, n in enumerate(numbers):
            a, b = max(n - window_days + 1, first), min(n, last)
            if a > b:
                continue
            window = ((1 << (b - first + 1)) - 1) & ~((1 << (a - first)) - 1)
            terms.append(f"CASE WHEN fu.days & {_ubig(window)} <> 0 THEN {_ubig(1 << j)} ELSE {_ubig(0)} END")
        if terms:
            branches.append(f"WHEN {word} THEN " + " | ".join(terms))
    return f"CASE fu.word {' '.join(branches)} ELSE {_ubig(0)} END", word_lo, word_hi


def span_bounds(dates: Sequence[dt.date]) -> tuple[str, str, str]:
    """SQL for a person's first date bit on the roster (``lo``), one past the last (``hi``),
    and the mask of bits lo … hi − 1 (over ``people`` columns ``on_from``, ``on_to``)."""
    lo = " + ".join(f"CAST(on_from > DATE '{d.isoformat()}' AS INTEGER)" for d in dates)
    hi = " + ".join(f"CAST(COALESCE(on_to, DATE '9999-12-31') >= DATE '{d.isoformat()}' AS INTEGER)" for d in dates)
    mask = (
        f"(CASE WHEN s.hi >= 64 THEN {_ubig(ALL_BITS)} ELSE (CAST(1 AS UBIGINT) << CAST(s.hi AS UBIGINT)) "
        f"- CAST(1 AS UBIGINT) END & ~((CAST(1 AS UBIGINT) << CAST(s.lo AS UBIGINT)) - CAST(1 AS UBIGINT)))"
    )
    return f"CAST({lo} AS INTEGER)", f"CAST({hi} AS INTEGER)", mask


def department_cells(
    ctx: Context, dates: Sequence[dt.date], window: int, sql: dict[str, str], rels: Rels
) -> pd.DataFrame:
    """``department_id, data_through, feature, headcount, eligible, users`` for ``dates``, from
    the feature uses (64 dates per statement); ``sql``: the people parts; ``rels``: ``kpi_features``,
    ``kpi_eligibility``."""
    days = sorted(set(dates))
    frames = [_chunk(ctx, days[i : i + WORD_DAYS], window, sql, rels) for i in range(0, len(days), WORD_DAYS)]
    return pd.concat(frames, ignore_index=True)


def _chunk(
    ctx: Context, days: list[dt.date], window_days: int, parts: dict[str, str], relations: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    hits, word_lo, word_hi = hits_expression(days, window_days)
    lo, hi, mask = span_bounds(days)
    bits = pd.DataFrame({"j": range(len(days)), "bit": [1 << j for j in range(len(days))]}).astype("uint64")
    rels = {**relations, "kpi_bits": bits.astype({"j": "int32"})}
    people = SPANS_OF.get(parts["people"], parts["people"])
    users = run(
        ctx.con,
        USES.format(
            people=people,
            person_map=parts["person_map"],
            hits=hits,
            table=TABLE,
            word_lo=word_lo,
            word_hi=word_hi,
            lo=lo,
            hi=hi,
            span_mask=mask,
        ),
        relations=rels,
    )
    heads = run(ctx.con, HEADS.format(people=people, lo=lo, hi=hi), relations=rels)
    feats = list(relations["kpi_features"]["feature"])
    eligible = set(
        zip(relations["kpi_eligibility"]["department_id"], relations["kpi_eligibility"]["feature"], strict=True)
    )
    cells = heads.merge(pd.DataFrame({"feature": feats}), how="cross")
    cells = cells.merge(users, on=["department_id", "feature", "j"], how="left")
    cells["users"] = cells["users"].fillna(0).astype("int64")
    applies = np.array([(int(d), f) in eligible for d, f in zip(cells["department_id"], cells["feature"], strict=True)])
    cells["eligible"] = cells["headcount"].where(applies, 0).astype("int64")
    cells["data_through"] = [days[j] for j in cells["j"]]
    return cells[["department_id", "data_through", "feature", "headcount", "eligible", "users"]]


__all__ = ["department_cells", "hits_expression", "span_bounds"]
