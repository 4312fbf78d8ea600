"""The SQL of the KPIs over record tables: the points ledger, IT tickets, approval records and
the org reconciliation.

Conventions as in :mod:`wecom_eval.kpis.queries` (``$name`` parameters, helper relations such
as ``kpi_calendar`` and ``kpi_departments``, ``{…}`` slots filled by
:func:`~wecom_eval.kpis.queries.render`).
"""

from __future__ import annotations

from collections.abc import Mapping

from wecom_eval.store.rollup_sql import FAR_FUTURE

# ---- points ---------------------------------------------------------------------------------

# The members of the employees hired in $start..$end.
HIRED_MEMBERS = """
SELECT m.userid FROM members m JOIN employees emp ON emp.employee_id = m.employee_id
WHERE emp.hire_date BETWEEN $start AND $end
"""

POINTS_LEDGER = f"""
WITH events AS (
  SELECT 'register' AS action, 'members' AS source_table, m.userid AS event_id, m.userid,
         m.activated_at AS ts, 1 AS count
  FROM members m WHERE m.activated_at IS NOT NULL AND m.status <> 4
  UNION ALL
  SELECT fe.feature, 'feature_events', fe.event_id, fe.userid, fe.ts, fe.count
  FROM feature_events fe
  WHERE fe.ts >= CAST($start AS TIMESTAMPTZ) AND fe.ts < CAST($end + INTERVAL '1' DAY AS TIMESTAMPTZ)
  UNION ALL
  -- an event before the range counts in it only when its employee was hired in the range
  -- (it is dated on the hire date): only their members' events are read before $start
  SELECT fe.feature, 'feature_events', fe.event_id, fe.userid, fe.ts, fe.count
  FROM feature_events fe
  WHERE fe.ts < CAST($start AS TIMESTAMPTZ) {{first_use}} AND fe.userid IN ({HIRED_MEMBERS})
  UNION ALL
  SELECT 'training', 'training_attendance', t.session_id || '/' || t.userid, t.userid,
         CAST(t.date AS TIMESTAMPTZ), 1
  FROM training_attendance t
),
dated AS (
  SELECT e.*, m.employee_id,
         CASE WHEN emp.hire_date > CAST(e.ts AS DATE) THEN emp.hire_date ELSE CAST(e.ts AS DATE) END AS day,
         emp.leave_date
  FROM events e
  JOIN members m ON m.userid = e.userid
  JOIN employees emp ON emp.employee_id = m.employee_id
),
priced AS (
  SELECT d.*, r.points AS points_per_action, r.points * d.count AS points_earned
  FROM dated d
  JOIN kpi_points r ON r.action = d.action
  WHERE d.day BETWEEN $start AND $end AND d.day <= COALESCE(d.leave_date, {FAR_FUTURE})
),
weeked AS (
  SELECT p.*, c.week, c.week_start FROM priced p JOIN kpi_calendar c ON c.date = p.day
),
running AS (
  SELECT w.*,
         COALESCE(SUM(w.points_earned) OVER (
           PARTITION BY w.employee_id, w.week ORDER BY w.ts, w.action, w.event_id
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS earned_before
  FROM weeked w
)
SELECT r.employee_id, emp.name, emp.department_id, dep.department, r.week, r.week_start,
       r.action, r.source_table, r.event_id, r.userid, r.ts, r.count, r.points_per_action, r.points_earned,
       CAST(CASE WHEN r.earned_before >= $cap THEN 0
                 WHEN r.earned_before + r.points_earned > $cap THEN $cap - r.earned_before
                 ELSE r.points_earned END AS BIGINT) AS points_awarded,
       CAST(r.earned_before AS BIGINT) AS earned_before
FROM running r
JOIN employees emp ON emp.employee_id = r.employee_id
JOIN kpi_departments dep ON dep.department_id = emp.department_id
ORDER BY r.employee_id, r.week, r.ts, r.action, r.event_id
"""

# The people a week's row describes are the employees on the roster on at least one day of
# the week (clipped to $start..$end): exactly those who can earn points in it, since the
# ledger awards points only for days its employee is on the roster. Earners are thus always
# among the employees.
POINTS_TOTALS = f"""
WITH ledger AS ({{ledger}}),
weeks AS (
  SELECT week, week_start, MIN(date) AS first_day, MAX(date) AS last_day
  FROM kpi_calendar WHERE date BETWEEN $start AND $end GROUP BY week, week_start
),
heads AS (
  SELECT {{select}} w.week, w.week_start, COUNT(*) AS employees
  FROM employees e
  JOIN weeks w ON e.hire_date <= w.last_day AND COALESCE(e.leave_date, {FAR_FUTURE}) >= w.first_day
  JOIN kpi_departments dep ON dep.department_id = e.department_id
  GROUP BY {{group}} w.week, w.week_start
),
earned AS (
  SELECT {{select}} l.week,
         COUNT(DISTINCT CASE WHEN l.points_awarded > 0 THEN l.employee_id END) AS earners,
         SUM(l.points_awarded) AS points,
         SUM(l.points_earned - l.points_awarded) AS points_over_cap
  FROM ledger l JOIN kpi_departments dep ON dep.department_id = l.department_id
  GROUP BY {{group}} l.week
)
SELECT {{head_keys}} h.week, h.week_start, CAST(h.employees AS BIGINT) AS employees,
       CAST(COALESCE(e.earners, 0) AS BIGINT) AS earners,
       CAST(COALESCE(e.points, 0) AS BIGINT) AS points,
       CAST(COALESCE(e.points_over_cap, 0) AS BIGINT) AS points_over_cap
FROM heads h
LEFT JOIN earned e ON e.week = h.week {{join_earned}}
"""


# ---- IT support ----------------------------------------------------------------------------

TICKETS = """
SELECT t.ticket_id, t.created_at, t.first_response_at, t.resolved_at, t.category, c.week, c.week_start
FROM tickets t
JOIN kpi_calendar c ON c.date = CAST(t.created_at AS DATE)
WHERE CAST(t.created_at AS DATE) BETWEEN $start AND $end
"""


# ---- approval turnaround (pilot efficiency) -------------------------------------------------

# Finished records (approved or rejected, finished after they started) of one process (?)
# started up to a day (?), with their department's path.
TURNAROUND_RECORDS = """
SELECT p.record_id, p.department_id, d.path, p.system, p.started_at, p.finished_at
FROM process_records p JOIN departments d USING (department_id)
WHERE p.process = ? AND p.status IN ('approved', 'rejected') AND p.finished_at IS NOT NULL
  AND p.finished_at > p.started_at AND p.started_at < CAST(CAST(? AS DATE) + INTERVAL '1' DAY AS TIMESTAMPTZ)
ORDER BY p.record_id
"""


# Per department, the first and last start of the records above (what the launch design needs
# of all of them).
TURNAROUND_SPANS = """
SELECT p.department_id, d.path, MIN(p.started_at) AS first_at, MAX(p.started_at) AS last_at
FROM process_records p JOIN departments d USING (department_id)
WHERE p.process = ? AND p.status IN ('approved', 'rejected') AND p.finished_at IS NOT NULL
  AND p.finished_at > p.started_at AND p.started_at < CAST(CAST(? AS DATE) + INTERVAL '1' DAY AS TIMESTAMPTZ)
GROUP BY p.department_id, d.path
"""

# Every department with its path (the plan names pilots by id or by path).
DEPARTMENT_PATHS = "SELECT department_id, path FROM departments"

# Employees per department, whatever their dates (the staff the power simulation draws approvals for).
STAFF_BY_DEPARTMENT = "SELECT department_id, count(*) AS staff FROM employees GROUP BY 1"


# ---- reconciliation ------------------------------------------------------------------------

RECONCILE_LISTS: Mapping[str, str] = {
    "employees_without_member": f"""
SELECT e.employee_id, e.name, e.department_id, dep.department, e.hire_date
FROM employees e JOIN kpi_departments dep ON dep.department_id = e.department_id
WHERE e.hire_date <= $data_through AND COALESCE(e.leave_date, {FAR_FUTURE}) >= $data_through
  AND NOT EXISTS (SELECT 1 FROM members m WHERE m.employee_id = e.employee_id)
ORDER BY dep.department, e.employee_id""",
    "members_without_employee": """
SELECT m.userid, m.employee_id, m.department_id, dep.department, m.status
FROM members m JOIN kpi_departments dep ON dep.department_id = m.department_id
WHERE m.employee_id IS NULL
   OR NOT EXISTS (SELECT 1 FROM employees e WHERE e.employee_id = m.employee_id)
ORDER BY dep.department, m.userid""",
    "department_mismatch": f"""
SELECT e.employee_id, e.name, m.userid, e.department_id AS roster_department_id,
       rd.department AS roster_department, m.department_id AS wecom_department_id,
       wd.department AS wecom_department
FROM members m
JOIN employees e ON e.employee_id = m.employee_id
JOIN kpi_departments rd ON rd.department_id = e.department_id
JOIN kpi_departments wd ON wd.department_id = m.department_id
WHERE m.department_id <> e.department_id
  AND e.hire_date <= $data_through AND COALESCE(e.leave_date, {FAR_FUTURE}) >= $data_through
ORDER BY rd.department, e.employee_id""",
    "leavers_still_active": """
SELECT e.employee_id, e.name, m.userid, e.department_id, dep.department, e.leave_date, m.status
FROM members m
JOIN employees e ON e.employee_id = m.employee_id
JOIN kpi_departments dep ON dep.department_id = e.department_id
WHERE e.leave_date < $data_through AND m.status = 1
ORDER BY dep.department, e.employee_id""",
    "disabled_or_left_while_employed": f"""
SELECT e.employee_id, e.name, m.userid, e.department_id, dep.department, m.status
FROM members m
JOIN employees e ON e.employee_id = m.employee_id
JOIN kpi_departments dep ON dep.department_id = e.department_id
WHERE m.status IN (2, 5)
  AND e.hire_date <= $data_through AND COALESCE(e.leave_date, {FAR_FUTURE}) >= $data_through
ORDER BY dep.department, e.employee_id""",
    "duplicate_members": """
SELECT e.employee_id, e.name, e.department_id, dep.department, m.userid, m.status
FROM members m
JOIN employees e ON e.employee_id = m.employee_id
JOIN kpi_departments dep ON dep.department_id = e.department_id
WHERE m.employee_id IN (SELECT employee_id FROM members WHERE employee_id IS NOT NULL
                        GROUP BY employee_id HAVING COUNT(*) > 1)
ORDER BY dep.department, e.employee_id, m.userid""",
    "inconsistent_status": """
SELECT m.userid, m.employee_id, m.department_id, dep.department, m.status, m.activated_at
FROM members m JOIN kpi_departments dep ON dep.department_id = m.department_id
WHERE (m.status = 4 AND m.activated_at IS NOT NULL) OR (m.status = 1 AND m.activated_at IS NULL)
ORDER BY dep.department, m.userid""",
}

RECONCILE_DEPARTMENTS = f"""
WITH roster AS (
  SELECT department_id, COUNT(*) AS employees FROM employees
  WHERE hire_date <= $data_through AND COALESCE(leave_date, {FAR_FUTURE}) >= $data_through
  GROUP BY department_id
),
wecom AS (
  SELECT department_id, COUNT(*) AS members,
         SUM(CASE WHEN status IN (1, 2, 4) THEN 1 ELSE 0 END) AS current_members
  FROM members GROUP BY department_id
)
SELECT dep.department_id, dep.department,
       CAST(COALESCE(r.employees, 0) AS BIGINT) AS employees,
       CAST(COALESCE(w.current_members, 0) AS BIGINT) AS members
FROM kpi_departments dep
LEFT JOIN roster r ON r.department_id = dep.department_id
LEFT JOIN wecom w ON w.department_id = dep.department_id
WHERE COALESCE(r.employees, 0) > 0 OR COALESCE(w.current_members, 0) > 0
ORDER BY dep.department
"""
