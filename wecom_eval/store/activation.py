"""Members' activation dates, derived after every load from what the warehouse knows.

A source states an activation time (an export's 激活时间), a status snapshot shows a member
activated (a fetch, a ``members`` export), or the member's first activity bounds it: the
registration KPIs read ``members.activated_at`` and ``activation_basis`` as set here.
"""

from __future__ import annotations

import duckdb

from wecom_eval.store.activation_pending import PENDING
from wecom_eval.store.member_days import CHANGED_DAYS
from wecom_eval.store.rollups import META_TABLE
from wecom_eval.store.sql import Source, connection, one

# Each member's status from its latest snapshot (the latest day; on one day a members export
# before a fetch). A member the snapshot shows not activated (4) but who used WeCom after
# that day has activated since: status 1. ({scope} limits it to the members being redated.)
LATEST_STATUS = """
WITH latest AS (
  SELECT userid, observed_on, status FROM (
    SELECT userid, observed_on, status,
           ROW_NUMBER() OVER (PARTITION BY userid ORDER BY observed_on DESC, source) AS n
    FROM member_status WHERE {scope}
  ) x WHERE n = 1
)
SELECT l.userid,
       CASE WHEN l.status = 4 AND (
              EXISTS (SELECT 1 FROM member_days d WHERE d.userid = l.userid AND d.active AND d.date > l.observed_on)
              OR EXISTS (SELECT 1 FROM feature_events f WHERE f.userid = l.userid
                         AND CAST(f.ts AS DATE) > l.observed_on)
              OR EXISTS (SELECT 1 FROM process_records p WHERE p.userid = l.userid AND p.system = 'wecom'
                         AND CAST(p.started_at AS DATE) > l.observed_on))
            THEN 1 ELSE l.status END AS status
FROM latest l
"""

# Members whose activation date is derived (no time stated by a source), with the bounds it
# rests on: the first snapshot showing the member activated, and the first activity of any
# kind in WeCom (a legacy-system record is not one). A time a source stated (basis
# export_time, or any time loaded without a basis) stays. ({scope} as above.)
ACTIVATION_BOUNDS = """
WITH need AS (
  SELECT userid, status FROM members
  WHERE NOT (activated_at IS NOT NULL AND (activation_basis IS NULL OR activation_basis = 'export_time'))
    AND (status <> 4 OR activated_at IS NOT NULL OR activation_basis IS NOT NULL) AND {scope}
),
snap AS (
  SELECT userid, MIN(CASE WHEN status = 1 THEN observed_on END) AS seen_on, MIN(activated_at) AS stated
  FROM member_status WHERE userid IN (SELECT userid FROM need) GROUP BY userid
),
act AS (
  SELECT userid, MIN(day) AS first_on FROM (
    SELECT userid, MIN(date) AS day FROM member_days
    WHERE active AND userid IN (SELECT userid FROM need) GROUP BY userid
    UNION ALL
    SELECT userid, MIN(CAST(ts AS DATE)) FROM feature_events WHERE userid IN (SELECT userid FROM need) GROUP BY userid
    UNION ALL
    SELECT userid, MIN(CAST(started_at AS DATE)) FROM process_records
    WHERE system = 'wecom' AND userid IN (SELECT userid FROM need) GROUP BY userid
  ) u GROUP BY userid
)
SELECT n.userid,
       CASE WHEN n.status = 4 THEN NULL
            WHEN s.stated IS NOT NULL THEN s.stated
            WHEN a.first_on IS NOT NULL AND (s.seen_on IS NULL OR a.first_on < s.seen_on)
              THEN CAST(a.first_on AS TIMESTAMPTZ)
            ELSE CAST(s.seen_on AS TIMESTAMPTZ) END AS activated_at,
       CASE WHEN n.status = 4 THEN NULL
            WHEN s.stated IS NOT NULL THEN 'export_time'
            WHEN a.first_on IS NOT NULL AND (s.seen_on IS NULL OR a.first_on < s.seen_on) THEN 'first_activity'
            WHEN s.seen_on IS NOT NULL THEN 'snapshot'
            WHEN n.status = 1 THEN 'unknown' END AS activation_basis
FROM need n
LEFT JOIN snap s ON s.userid = n.userid
LEFT JOIN act a ON a.userid = n.userid
"""

# Activity added can only move a first activity earlier: a member dated from snapshots or
# activity (not from a stated time), and not "not activated", takes the earliest day added
# when it comes before the present date. (What ACTIVATION_BOUNDS gives for such a member,
# with the first activity the earlier of the old one and the day added.)
EARLIER_ACTIVITY = """
UPDATE members SET activated_at = CAST(a.first_on AS TIMESTAMPTZ), activation_basis = 'first_activity'
FROM _activation_added a
WHERE members.userid = a.userid AND members.status <> 4
  AND NOT (members.activated_at IS NOT NULL
           AND (members.activation_basis IS NULL OR members.activation_basis = 'export_time'))
  AND (members.activated_at IS NULL OR CAST(a.first_on AS TIMESTAMPTZ) < members.activated_at)
"""

# The days on which who counts as registered may have changed: from the earliest activation
# date that changed (before or after) to the latest, and whether a registration started or
# ended (then to the last day the rollups hold).
CHANGED_SPAN = """
WITH ch AS (
  SELECT o, n FROM (
    SELECT CASE WHEN b.status <> 4 THEN CAST(b.activated_at AS DATE) END AS o,
           CASE WHEN m.status <> 4 THEN CAST(m.activated_at AS DATE) END AS n
    FROM _activation_before b JOIN members m USING (userid)
  ) x WHERE o IS DISTINCT FROM n
)
SELECT MIN(LEAST(COALESCE(o, n), COALESCE(n, o))), MAX(GREATEST(o, n)) - 1, bool_or(o IS NULL OR n IS NULL)
FROM ch
"""


def date_activations(source: Source, *, full: bool = False) -> int:
    """Date each member's activation from what the warehouse knows; returns the members changed.

    First each member's status becomes that of its latest snapshot, if it has one (activated,
    when the snapshot says not activated but the member used WeCom after it).

    A member whose source stated an activation time (an export's 激活时间) keeps it
    (``activation_basis`` ``export_time``). Otherwise the date is the earlier of two upper
    bounds: the first status snapshot (a fetch or a ``members`` export) showing the member
    activated (``snapshot``), and the member's first activity of any kind — an active member
    day, a feature event, a process record (``first_activity``). An activated member with
    neither is ``unknown`` and has no date; a member not activated (status 4) has none.
    Identical data gives identical dates: nothing depends on when the work was done. Needs a
    writable warehouse; run after every load (:func:`wecom_eval.store.load.refresh_dependents` does).

    Only the members the loads since the last dating touched are redated
    (:mod:`~wecom_eval.store.activation_pending`): from scratch those whose activity was
    replaced and those not activated; the others with activity added, by the rule that added
    activity can only move a first activity earlier. A load of members or snapshots, and
    ``full``, redate everyone; either way the dates are the same
    (``tests/test_store_activation.py``). The days whose registered members changed are
    handed to the rollups' refresh.
    """
    con = connection(source)
    con.execute("BEGIN TRANSACTION")
    try:
        everyone = full or bool(one(con, f"SELECT count(*) FROM {PENDING} WHERE kind = 'all'")[0])
        changed = _redate_everyone(con) if everyone else _redate_touched(con)
        con.execute(f"DELETE FROM {PENDING}")
        con.execute("DROP TABLE IF EXISTS _activation_before")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return changed


def _redate(con: duckdb.DuckDBPyConnection, scope: str) -> int:
    """Redate the members ``scope`` (a condition on ``userid``) selects, from scratch."""
    con.execute(
        "UPDATE members SET activation_basis = 'export_time' "
        f"WHERE activated_at IS NOT NULL AND activation_basis IS NULL AND {scope}"
    )
    # A member's current status is its latest snapshot's (an older export loaded later does not win).
    con.execute(
        f"UPDATE members SET status = s.status FROM ({LATEST_STATUS.format(scope=scope)}) s "
        "WHERE members.userid = s.userid AND members.status <> s.status"
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _activation AS {ACTIVATION_BOUNDS.format(scope=scope)}")
    changed = one(
        con,
        "SELECT count(*) FROM _activation a JOIN members m USING (userid) WHERE "
        "a.activated_at IS DISTINCT FROM m.activated_at OR "
        "a.activation_basis IS DISTINCT FROM m.activation_basis",
    )[0]
    if changed:
        con.execute(
            "UPDATE members SET activated_at = a.activated_at, activation_basis = a.activation_basis "
            "FROM _activation a WHERE members.userid = a.userid AND "
            "(a.activated_at IS DISTINCT FROM members.activated_at OR "
            "a.activation_basis IS DISTINCT FROM members.activation_basis)"
        )
    con.execute("DROP TABLE _activation")
    return int(changed)


def _redate_everyone(con: duckdb.DuckDBPyConnection) -> int:
    _keep_before(con, "TRUE")
    changed = _redate(con, "TRUE")
    _hand_changed_days(con)
    return changed


def _redate_touched(con: duckdb.DuckDBPyConnection) -> int:
    """Redate from scratch the members whose activity was replaced, or who are not activated
    (activity may change their status); apply the rule for earlier activity to the others."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _activation_recheck AS SELECT DISTINCT userid FROM {PENDING} "
        f"WHERE kind = 'recheck' UNION SELECT p.userid FROM {PENDING} p JOIN members m USING (userid) "
        "WHERE p.kind = 'added' AND m.status = 4"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _activation_added AS SELECT userid, MIN(first_on) AS first_on "
        f"FROM {PENDING} WHERE kind = 'added' AND userid NOT IN (SELECT userid FROM _activation_recheck) "
        "GROUP BY userid"
    )
    try:
        _keep_before(
            con, "userid IN (SELECT userid FROM _activation_recheck UNION SELECT userid FROM _activation_added)"
        )
        changed = 0
        if one(con, "SELECT count(*) FROM _activation_recheck")[0]:
            changed += _redate(con, "userid IN (SELECT userid FROM _activation_recheck)")
        changed += _count(con.execute(EARLIER_ACTIVITY).fetchall())
        _hand_changed_days(con)
    finally:
        con.execute("DROP TABLE IF EXISTS _activation_recheck")
        con.execute("DROP TABLE IF EXISTS _activation_added")
    return changed


def _count(rows: list[tuple[object, ...]]) -> int:
    """The row count an UPDATE reports."""
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def _keep_before(con: duckdb.DuckDBPyConnection, scope: str) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _activation_before AS SELECT userid, status, activated_at FROM members "
        f"WHERE {scope}"
    )


def _hand_changed_days(con: duckdb.DuckDBPyConnection) -> None:
    """The days whose registered members changed, for the rollups' refresh (:data:`CHANGED_SPAN`)."""
    lo, hi, open_ended = one(con, CHANGED_SPAN)
    if lo is None:
        return
    if open_ended:  # to the last day the rollups hold, or the loads just added (later ones are new to them)
        ends = [hi, one(con, f"SELECT max(date) FROM {CHANGED_DAYS}")[0]]
        if one(con, f"SELECT count(*) FROM information_schema.tables WHERE table_name = '{META_TABLE}'")[0]:
            ends.append(one(con, f"SELECT max(last_day) FROM {META_TABLE}")[0])
        hi = max((d for d in ends if d is not None), default=lo)
    if lo <= hi:
        con.execute(
            f"INSERT INTO {CHANGED_DAYS} SELECT CAST(unnest(generate_series(CAST(? AS TIMESTAMP), "
            "CAST(? AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE)",
            [lo, hi],
        )


__all__ = ["date_activations"]
