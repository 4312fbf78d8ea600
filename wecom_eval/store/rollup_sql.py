"""The SQL of the activity rollups: registered spans, department-days and department-weeks.

:mod:`wecom_eval.store.rollups` folds member-days into department-day and department-week
figures with these statements; the KPI statements in :mod:`wecom_eval.kpis.queries` read the
rollups and share :data:`MEMBER_SPANS` (who counts as registered) and :data:`FAR_FUTURE`. The
conventions (``$name`` parameters, helper relations such as ``kpi_calendar``) and the definitions
of registered, active, engaged and measured are those of :mod:`wecom_eval.kpis.queries`.
"""

from __future__ import annotations

import datetime as dt

FAR_FUTURE = "DATE '9999-12-31'"

# Members that count as registered on the days from reg_from to reg_to (null: open).
MEMBER_SPANS = """
SELECT m.userid, m.department_id,
       CASE WHEN e.hire_date IS NOT NULL AND e.hire_date > CAST(m.activated_at AS DATE)
            THEN e.hire_date ELSE CAST(m.activated_at AS DATE) END AS reg_from,
       e.leave_date AS reg_to
FROM members m
LEFT JOIN employees e ON e.employee_id = m.employee_id
WHERE m.activated_at IS NOT NULL AND m.status <> 4
  AND (e.leave_date IS NULL OR e.leave_date >= CAST(m.activated_at AS DATE))
"""

# The registered members whose span overlaps $start..$end, with their integer member key
# (member-days are stored with it: every join below on the tens of millions of member-days is
# on integers). A member with no member-day yet has no key and no activity.
SPANS = f"""
SELECT s.userid, s.department_id, s.reg_from, s.reg_to, k.member_key
FROM ({MEMBER_SPANS}) s
LEFT JOIN member_keys k ON k.userid = s.userid
WHERE s.reg_from <= $end AND COALESCE(s.reg_to, {FAR_FUTURE}) >= $start
"""

# One row per department and calendar day of $start..$end (reads the relation `spans`):
# registered members, members with a member-day row, active, engaged, and members whose
# minutes are measured. ``spans`` may hold members outside $start..$end (an incremental
# refresh of some days reads the spans of all of them): only overlapping ones are counted.
DEPARTMENT_DAYS = f"""
WITH overlapping AS (
  SELECT * FROM spans WHERE reg_from <= $end AND COALESCE(reg_to, {FAR_FUTURE}) >= $start
),
changes AS (
  SELECT department_id, CASE WHEN reg_from < $start THEN $start ELSE reg_from END AS date, 1 AS delta
  FROM overlapping
  UNION ALL
  SELECT department_id, CAST(reg_to + INTERVAL '1' DAY AS DATE) AS date, -1 AS delta
  FROM overlapping WHERE reg_to < $end
),
change_days AS (
  SELECT department_id, date, SUM(delta) AS delta FROM changes GROUP BY department_id, date
),
grid AS (
  SELECT d.department_id, c.date
  FROM (SELECT DISTINCT department_id FROM spans) d
  CROSS JOIN (SELECT date FROM kpi_calendar WHERE date BETWEEN $start AND $end) c
),
registered AS (
  SELECT g.department_id, g.date,
         SUM(COALESCE(ch.delta, 0)) OVER (PARTITION BY g.department_id ORDER BY g.date
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS registered
  FROM grid g
  LEFT JOIN change_days ch ON ch.department_id = g.department_id AND ch.date = g.date
),
by_span AS (
  -- Whether the member is registered on the row's day is a grouping column, not a join
  -- condition: the join stays a plain lookup of the integer key (with the range conditions in
  -- the join, this statement took 2.2 s of CPU at 100,000 members × 1 year; now 1.75 s), and
  -- by_source keeps the registered groups. (By_source must not filter with WHERE: the
  -- optimizer would push the filter back into the join.)
  SELECT s.department_id, md.date, md.source,
         md.date >= s.reg_from AND md.date <= COALESCE(s.reg_to, {FAR_FUTURE}) AS registered,
         COUNT(*) AS with_row,
         SUM(CAST(md.active AS INTEGER)) AS active,
         SUM(CAST(md.active AND COALESCE(md.minutes >= $min_minutes, FALSE) AS INTEGER)) AS engaged,
         COUNT(md.minutes) AS minutes_known,
         SUM(CAST(NOT md.active AND md.minutes IS NULL AS INTEGER)) AS inactive_unknown
  FROM member_activity md
  JOIN spans s ON s.member_key = md.member_key
  WHERE md.date BETWEEN $start AND $end
  GROUP BY s.department_id, md.date, md.source,
           md.date >= s.reg_from AND md.date <= COALESCE(s.reg_to, {FAR_FUTURE})
),
by_source AS (
  SELECT department_id, date, source,
         SUM(CASE WHEN registered THEN with_row ELSE 0 END) AS with_row,
         SUM(CASE WHEN registered THEN active ELSE 0 END) AS active,
         SUM(CASE WHEN registered THEN engaged ELSE 0 END) AS engaged,
         SUM(CASE WHEN registered THEN minutes_known ELSE 0 END) AS minutes_known,
         SUM(CASE WHEN registered THEN inactive_unknown ELSE 0 END) AS inactive_unknown
  FROM by_span GROUP BY department_id, date, source
),
source_days AS (
  SELECT date, source, CASE WHEN SUM(minutes_known) > 0 THEN 1 ELSE 0 END AS gives_minutes
  FROM by_source GROUP BY date, source
),
activity AS (
  SELECT b.department_id, b.date,
         SUM(b.with_row) AS with_row, SUM(b.active) AS active, SUM(b.engaged) AS engaged,
         SUM(b.minutes_known + sd.gives_minutes * b.inactive_unknown) AS measured_rows
  FROM by_source b
  JOIN source_days sd ON sd.date = b.date AND sd.source = b.source
  GROUP BY b.department_id, b.date
)
SELECT r.department_id, r.date, CAST(r.registered AS BIGINT) AS registered,
       CAST(COALESCE(a.with_row, 0) AS BIGINT) AS with_row,
       CAST(COALESCE(a.active, 0) AS BIGINT) AS active,
       CAST(COALESCE(a.engaged, 0) AS BIGINT) AS engaged,
       CAST(COALESCE(a.measured_rows, 0)
            + CASE WHEN COALESCE(a.measured_rows, 0) > 0 THEN r.registered - COALESCE(a.with_row, 0) ELSE 0 END
            AS BIGINT) AS measured
FROM registered r
LEFT JOIN activity a ON a.department_id = r.department_id AND a.date = r.date
"""


# Distinct members active on at least one day of each week (any day, working or not), among
# members registered that day; weeks clipped to $start..$end (reads `spans`). Rather than
# group tens of millions of member-days by member and week, each member's active weeks are
# folded into 64-bit words (bit i of word w: week 64·w + i of the range): one group per member
# (a group key of the stored integer alone is the cheapest to aggregate on), one BIT_OR column
# per word, and the words are unfolded against the weeks. (BIT_OR and the shifts are in DuckDB,
# Spark SQL and Trino under these or close names: see docs/scaling.md.)
def department_weeks(words: int) -> str:
    """The department-week statement for a range of at most ``64 * words`` weeks (:func:`week_words`)."""
    if words < 1:
        raise ValueError(f"words={words}: a range has at least one word of weeks")
    registered = f"md.date >= s.reg_from AND md.date <= COALESCE(s.reg_to, {FAR_FUTURE})"
    bit_columns = ",\n         ".join(
        f"BIT_OR(CASE WHEN {'' if words == 1 else f'd.word = {w} AND '}{registered} "
        f"THEN d.bit ELSE CAST(0 AS UBIGINT) END) AS bits_{w}"
        for w in range(words)
    )
    unfolded = "\n  UNION ALL ".join(
        f"SELECT member_key, CAST({w} AS UBIGINT) AS word, bits_{w} AS bits FROM member_words" for w in range(words)
    )
    return f"""
WITH weeks AS (
  SELECT week_start,
         CAST(week - (SELECT MIN(week) FROM kpi_calendar WHERE date BETWEEN $start AND $end) AS UBIGINT) AS idx
  FROM kpi_calendar WHERE date BETWEEN $start AND $end GROUP BY week_start, week
),
day_bits AS (
  SELECT c.date, w.idx // 64 AS word, CAST(1 AS UBIGINT) << (w.idx % 64) AS bit
  FROM kpi_calendar c JOIN weeks w ON w.week_start = c.week_start
  WHERE c.date BETWEEN $start AND $end
),
member_words AS (
  -- registered on the day: inside the aggregate rather than in the join (see DEPARTMENT_DAYS)
  SELECT md.member_key,
         {bit_columns}
  FROM member_activity md
  JOIN spans s ON s.member_key = md.member_key
  JOIN day_bits d ON d.date = md.date
  WHERE md.active AND md.date BETWEEN $start AND $end
  GROUP BY md.member_key
),
words AS (
  {unfolded}
)
SELECT s.department_id, w.week_start, CAST(COUNT(*) AS BIGINT) AS active_users
FROM words b
JOIN spans s ON s.member_key = b.member_key
JOIN weeks w ON w.idx // 64 = b.word
WHERE (b.bits >> (w.idx % 64)) & CAST(1 AS UBIGINT) = CAST(1 AS UBIGINT)
GROUP BY s.department_id, w.week_start
"""


def week_words(start: dt.date, end: dt.date) -> int:
    """How many 64-week words :func:`department_weeks` needs for ``start``..``end`` (at least enough)."""
    return ((end - start).days + 6) // 7 // 64 + 1
