"""The SQL of the activity rollups: registered spans, department-days and department-weeks.

:mod:`wecom_eval.store.rollups` folds member-days into department-day and department-week
figures with these statements; the KPI statements in :mod:`wecom_eval.kpis.queries` read the
rollups and share :data:`MEMBER_SPANS` (who counts as registered) and :data:`FAR_FUTURE`. The
conventions (``$name`` parameters, helper relations such as ``kpi_calendar``) and the definitions
of registered, active, engaged and measured are those of :mod:`wecom_eval.kpis.queries`.
"""

from __future__ import annotations

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
by_source AS (
  SELECT s.department_id, md.date, md.source,
         COUNT(*) AS with_row,
         SUM(CASE WHEN md.active THEN 1 ELSE 0 END) AS active,
         SUM(CASE WHEN md.active AND md.minutes >= $min_minutes THEN 1 ELSE 0 END) AS engaged,
         COUNT(md.minutes) AS minutes_known,
         SUM(CASE WHEN NOT md.active AND md.minutes IS NULL THEN 1 ELSE 0 END) AS inactive_unknown
  FROM member_activity md
  JOIN spans s ON s.member_key = md.member_key
  WHERE md.date BETWEEN $start AND $end
    AND md.date >= s.reg_from AND md.date <= COALESCE(s.reg_to, {FAR_FUTURE})
  GROUP BY s.department_id, md.date, md.source
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
# folded into 64-bit words (bit i of word w: week 64·w + i of the range), one group per
# member and 64 weeks, and the words are unfolded against the weeks. (BIT_OR and the shifts
# are in DuckDB, Spark SQL and Trino under these or close names: see docs/scaling.md.)
DEPARTMENT_WEEKS = f"""
WITH weeks AS (
  SELECT week_start, week - (SELECT MIN(week) FROM kpi_calendar WHERE date BETWEEN $start AND $end) AS idx
  FROM kpi_calendar WHERE date BETWEEN $start AND $end GROUP BY week_start, week
),
words AS (
  SELECT s.department_id, md.member_key, w.idx // 64 AS word,
         BIT_OR(CAST(1 AS UBIGINT) << CAST(w.idx % 64 AS INTEGER)) AS bits
  FROM member_activity md
  JOIN spans s ON s.member_key = md.member_key
  JOIN kpi_calendar c ON c.date = md.date
  JOIN weeks w ON w.week_start = c.week_start
  WHERE md.active AND md.date BETWEEN $start AND $end
    AND md.date >= s.reg_from AND md.date <= COALESCE(s.reg_to, {FAR_FUTURE})
  GROUP BY s.department_id, md.member_key, w.idx // 64
)
SELECT b.department_id, w.week_start, CAST(COUNT(*) AS BIGINT) AS active_users
FROM words b
JOIN weeks w ON w.idx // 64 = b.word
WHERE (b.bits >> CAST(w.idx % 64 AS INTEGER)) & CAST(1 AS UBIGINT) = CAST(1 AS UBIGINT)
GROUP BY b.department_id, w.week_start
"""
