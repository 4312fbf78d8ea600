"""Members' activation dates, derived after every load from what the warehouse knows.

A source states an activation time (an export's 激活时间), a status snapshot shows a member
activated (a fetch, a ``members`` export), or the member's first activity bounds it: the
registration KPIs read ``members.activated_at`` and ``activation_basis`` as set here.
"""

from __future__ import annotations

from wecom_eval.store.sql import Source, connection, one

# Each member's status from its latest snapshot (the latest day; on one day a members export
# before a fetch). A member the snapshot shows not activated (4) but who used WeCom after
# that day has activated since: status 1.
LATEST_STATUS = """
WITH latest AS (
  SELECT userid, observed_on, status FROM (
    SELECT userid, observed_on, status,
           ROW_NUMBER() OVER (PARTITION BY userid ORDER BY observed_on DESC, source) AS n
    FROM member_status
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
# export_time, or any time loaded without a basis) stays.
ACTIVATION_BOUNDS = """
WITH need AS (
  SELECT userid, status FROM members
  WHERE NOT (activated_at IS NOT NULL AND (activation_basis IS NULL OR activation_basis = 'export_time'))
    AND (status <> 4 OR activated_at IS NOT NULL OR activation_basis IS NOT NULL)
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


def date_activations(source: Source) -> int:
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
    """
    con = connection(source)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE members SET activation_basis = 'export_time' "
            "WHERE activated_at IS NOT NULL AND activation_basis IS NULL"
        )
        # A member's current status is its latest snapshot's (an older export loaded later does not win).
        con.execute(
            f"UPDATE members SET status = s.status FROM ({LATEST_STATUS}) s "
            "WHERE members.userid = s.userid AND members.status <> s.status"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _activation AS {ACTIVATION_BOUNDS}")
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
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(changed)


__all__ = ["date_activations"]
