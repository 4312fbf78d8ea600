"""The SQL of the adoption KPIs: populations, registration, activity and feature penetration
(DESIGN §11).

Every KPI statement lives in ``kpis/``: here, in :mod:`~wecom_eval.kpis.queries_records`
(points, IT tickets, approval records, the org reconciliation) and
:mod:`~wecom_eval.kpis.queries_survey` (survey waves, satisfaction, feedback). The statements
that fold member-days into the activity rollups, and those that date activations, belong to
the store (:mod:`wecom_eval.store.rollup_sql`, :mod:`wecom_eval.store.activation`). They all
share the conventions below.

The statements use standard SQL where a standard form exists (CASE, COALESCE, window
functions, ``INTERVAL '1' HOUR``); week numbers, working days, trailing windows and
eligibility come from small helper relations (``kpi_calendar``, ``kpi_dates``,
``kpi_departments``, ``kpi_eligibility``, ``kpi_features``, ``kpi_points``) rather than from
engine-specific date functions, so the statements can be pointed at Spark SQL. Values are
bound as named parameters (``$name``); ``{…}`` marks where a relation or a select list is
put in by the caller (:func:`render`). What a port to another engine must touch: the
``$name`` markers (Spark: ``:name``), the ``TIMESTAMPTZ`` casts of dates (training dates,
the day bounds of the penetration windows; Spark: ``TIMESTAMP`` in the session time zone)
and ``CAST(ts AS DATE)``, which both engines take in the session time zone (the warehouse
sets Asia/Shanghai).

Definitions behind the statements (DESIGN §6; the demo's ground truth uses the same):

* an employee is **on the roster** on day d when ``hire_date <= d`` and
  (``leave_date`` is null or ``d <= leave_date``): the leave date is the last day employed;
* an employee is **registered** on d when one of their WeCom members
  (``members.employee_id``) has ``activated_at`` on or before d and is not in status 4
  (never activated). A member disabled (2) or gone (5) later stays registered for the days
  its employee is on the roster: the members table is a snapshot without dates of status
  changes, and such accounts show up in the reconciliation;
* a **registered member** on d (the activity denominator) has ``activated_at`` on or before
  d, is not in status 4, and its employee (if it has one) is on the roster on d; members
  without an employee count once activated. Activity is by the member's WeCom department;
* **active** is ``member_days.active``; a registered member with no row that day was not
  active. **Engaged** is active with ``minutes >= min_daily_minutes``, counted among
  registered members whose minutes are measured that day: a row with minutes, an inactive
  row from a source that reported minutes that day, or no row at all in a department-day
  where minutes were reported. A day with no measured member has no engaged rate.
"""

from __future__ import annotations

import re

from wecom_eval.store.rollup_sql import FAR_FUTURE, MEMBER_SPANS


def render(sql: str, **parts: str) -> str:
    """Put relations and select lists into a statement's ``{name}`` slots; every slot must be filled."""
    names = set(re.findall(r"\{(\w+)\}", sql))
    missing = names - parts.keys()
    if missing:
        raise ValueError(f"SQL slots {sorted(missing)} were not filled")
    return re.sub(r"\{(\w+)\}", lambda m: parts[m.group(1)], sql)


# ---- populations ----------------------------------------------------------------------------


# The people the roster-based KPIs count: the HR roster (on_from..on_to), with the day each
# was first registered. Without a roster the WeCom members stand in (see PEOPLE_FROM_MEMBERS).
PEOPLE_FROM_ROSTER = """
SELECT e.employee_id AS person_id, e.department_id, e.hire_date AS on_from, e.leave_date AS on_to,
       r.registered_on
FROM employees e
LEFT JOIN (
  SELECT m.employee_id, MIN(CAST(m.activated_at AS DATE)) AS registered_on
  FROM members m
  WHERE m.employee_id IS NOT NULL AND m.activated_at IS NOT NULL AND m.status <> 4
  GROUP BY m.employee_id
) r ON r.employee_id = e.employee_id
"""

PEOPLE_FROM_MEMBERS = """
SELECT m.userid AS person_id, m.department_id, DATE '1900-01-01' AS on_from, CAST(NULL AS DATE) AS on_to,
       CASE WHEN m.activated_at IS NOT NULL AND m.status <> 4 THEN CAST(m.activated_at AS DATE) END
         AS registered_on
FROM members m
WHERE m.status <> 5
"""

# userid -> person_id for the people above.
PERSON_MAP_ROSTER = """
SELECT m.userid, m.employee_id AS person_id
FROM members m JOIN employees e ON e.employee_id = m.employee_id
"""

PERSON_MAP_MEMBERS = "SELECT m.userid, m.userid AS person_id FROM members m"

# How a person's members are found, for each kind of population.
MEMBER_JOIN_ROSTER = "m.employee_id = p.person_id"
MEMBER_JOIN_MEMBERS = "m.userid = p.person_id"


# ---- registration ----------------------------------------------------------------------------

REGISTRATION = f"""
WITH people AS ({{people}})
SELECT {{select}} d.date AS data_through,
       COUNT(*) AS employees,
       SUM(CASE WHEN p.registered_on <= d.date THEN 1 ELSE 0 END) AS registered
FROM people p
JOIN kpi_dates d ON p.on_from <= d.date AND COALESCE(p.on_to, {FAR_FUTURE}) >= d.date
JOIN kpi_departments dep ON dep.department_id = p.department_id
GROUP BY {{group}} d.date
"""

STRAGGLERS = f"""
WITH people AS ({{people}})
SELECT dep.department_id, dep.department, p.person_id AS employee_id, e.name, p.on_from AS hire_date,
       dep.go_live_date, p.registered_on,
       m.userid, m.status AS member_status, CAST(m.activated_at AS DATE) AS activated_on,
       {{basis}} AS activation_basis
FROM people p
JOIN kpi_departments dep ON dep.department_id = p.department_id
LEFT JOIN employees e ON e.employee_id = p.person_id
LEFT JOIN members m ON {{member_join}}
WHERE p.on_from <= $data_through AND COALESCE(p.on_to, {FAR_FUTURE}) >= $data_through
  AND (p.registered_on IS NULL OR p.registered_on > $data_through)
ORDER BY dep.department, p.person_id, m.userid
"""


# ---- activity --------------------------------------------------------------------------------


# Members registered on at least one day of each (clipped) week, by department.
REGISTERED_WEEKS = f"""
WITH weeks AS (
  SELECT week, week_start, MIN(date) AS first_day, MAX(date) AS last_day
  FROM kpi_calendar WHERE date BETWEEN $start AND $end GROUP BY week, week_start
)
SELECT s.department_id, w.week_start, COUNT(*) AS registered_week
FROM ({MEMBER_SPANS}) s
JOIN weeks w ON s.reg_from <= w.last_day AND COALESCE(s.reg_to, {FAR_FUTURE}) >= w.first_day
GROUP BY s.department_id, w.week_start
"""

# Registered, active, engaged and measured members per day and department (or branch, or
# company), from the department-day figures `dd`; shared by the daily and weekly statements.
DAILY_SUMS = """
SELECT {select} dd.date, c.week, c.is_working, c.covered,
       SUM(dd.registered) AS registered, SUM(dd.with_row) AS with_row, SUM(dd.active) AS active,
       SUM(dd.engaged) AS engaged, SUM(dd.measured) AS measured
FROM dd
JOIN kpi_calendar c ON c.date = dd.date
JOIN kpi_departments dep ON dep.department_id = dd.department_id
WHERE dd.date BETWEEN $start AND $end
GROUP BY {group} dd.date, c.week, c.is_working, c.covered
"""

DAILY_ACTIVITY = (
    """
WITH spans AS ({spans}),
dd AS ({department_days})
"""
    + DAILY_SUMS
)

WEEKLY_ACTIVITY = (
    """
WITH spans AS ({spans}),
dd AS ({department_days}),
dw AS ({department_weeks}),
rw AS ({registered_weeks}),
weeks AS (
  SELECT week, week_start, MIN(date) AS first_day, MAX(date) AS last_day,
         SUM(CASE WHEN is_working THEN 1 ELSE 0 END) AS working_days
  FROM kpi_calendar WHERE date BETWEEN $start AND $end GROUP BY week, week_start
),
daily AS ("""
    + DAILY_SUMS
    + """),
weekly AS (
  -- each mean in date order: a float sum's rounding must not depend on DuckDB's threads
  SELECT {keys} week,
         SUM(CASE WHEN is_working AND covered AND registered > 0 THEN 1 ELSE 0 END) AS days_with_members,
         AVG(CASE WHEN is_working AND covered AND registered > 0 THEN CAST(active AS DOUBLE) / registered END
             ORDER BY date) AS active_rate,
         AVG(CASE WHEN is_working AND measured > 0 THEN CAST(engaged AS DOUBLE) / measured END ORDER BY date)
           AS engaged_rate,
         SUM(CASE WHEN is_working AND measured > 0 THEN 1 ELSE 0 END) AS engaged_days_measured,
         AVG(CASE WHEN is_working AND covered AND registered > 0 THEN CAST(measured AS DOUBLE) / registered END
             ORDER BY date) AS minutes_coverage,
         AVG(CASE WHEN is_working THEN CAST(registered AS DOUBLE) END ORDER BY date) AS registered_mean,
         AVG(CASE WHEN is_working AND covered THEN CAST(active AS DOUBLE) END ORDER BY date) AS active_mean,
         AVG(CASE WHEN is_working AND measured > 0 THEN CAST(measured AS DOUBLE) END ORDER BY date) AS measured_mean,
         AVG(CASE WHEN is_working AND measured > 0 THEN CAST(engaged AS DOUBLE) END ORDER BY date) AS engaged_mean,
         SUM(with_row) AS member_day_rows
  FROM daily GROUP BY {keys} week
),
users AS (
  SELECT {select} dw.week_start, SUM(dw.active_users) AS weekly_active_users
  FROM dw JOIN kpi_departments dep ON dep.department_id = dw.department_id
  GROUP BY {group} dw.week_start
),
reg AS (
  SELECT {select} rw.week_start, SUM(rw.registered_week) AS registered_week
  FROM rw JOIN kpi_departments dep ON dep.department_id = rw.department_id
  GROUP BY {group} rw.week_start
)
SELECT {reg_keys} w.week, w.week_start, w.last_day AS week_end, w.working_days,
       CAST(reg.registered_week AS BIGINT) AS registered_week,
       wk.registered_mean, wk.active_mean, wk.active_rate,
       wk.measured_mean, wk.engaged_mean, wk.engaged_rate,
       CAST(COALESCE(wk.engaged_days_measured, 0) AS BIGINT) AS engaged_days_measured,
       wk.minutes_coverage,
       CAST(COALESCE(u.weekly_active_users, 0) AS BIGINT) AS weekly_active_users,
       CAST(COALESCE(wk.member_day_rows, 0) AS BIGINT) AS member_day_rows
FROM reg
JOIN weeks w ON w.week_start = reg.week_start
LEFT JOIN weekly wk ON wk.week = w.week {join_weekly}
LEFT JOIN users u ON u.week_start = w.week_start {join_users}
"""
)


# ---- feature penetration ---------------------------------------------------------------------

# A person "used" a feature on as-of date d when one of their events falls in d's trailing
# window. Rather than pair every use with every window holding it (each use day with up to
# window_days / 7 week ends, then a DISTINCT over millions of rows), each use goes to the
# first as-of date on or after it (its "slot") and only the latest use per person, feature
# and slot is kept: d is hit when a slot on or before d has its latest use on or after d's
# window start. Days are compared as their first instants in the session time zone (a DATE
# cast to TIMESTAMPTZ), so the event timestamps are compared as stored, with no time-zone
# conversion per row; the result is the same as comparing CAST(ts AS DATE).
PENETRATION = f"""
WITH people AS ({{people}}),
pmap AS ({{person_map}}),
slots AS (
  SELECT date,
         CAST(COALESCE(LAG(date) OVER (ORDER BY date) + INTERVAL '1' DAY, $first_day) AS TIMESTAMPTZ) AS slot_from,
         CAST(date + INTERVAL '1' DAY AS TIMESTAMPTZ) AS slot_to,
         CAST(window_start AS TIMESTAMPTZ) AS window_from
  FROM kpi_dates
),
latest AS (
  SELECT pm.person_id, fe.feature, s.date AS slot, MAX(fe.ts) AS last_use
  FROM feature_events fe
  JOIN pmap pm ON pm.userid = fe.userid
  JOIN slots s ON fe.ts >= s.slot_from AND fe.ts < s.slot_to
  WHERE fe.feature IN (SELECT feature FROM kpi_features)
    AND fe.ts >= CAST($first_day AS TIMESTAMPTZ) AND fe.ts < CAST($last_day + INTERVAL '1' DAY AS TIMESTAMPTZ)
  GROUP BY pm.person_id, fe.feature, s.date
),
hits AS (
  SELECT DISTINCT s.date, l.person_id, l.feature
  FROM latest l JOIN slots s ON l.slot <= s.date AND l.last_use >= s.window_from
),
heads AS (
  SELECT p.department_id, d.date, COUNT(*) AS headcount
  FROM people p
  JOIN kpi_dates d ON p.on_from <= d.date AND COALESCE(p.on_to, {FAR_FUTURE}) >= d.date
  GROUP BY p.department_id, d.date
),
users AS (
  SELECT p.department_id, h.date, h.feature, COUNT(*) AS users
  FROM hits h
  JOIN people p ON p.person_id = h.person_id
   AND p.on_from <= h.date AND COALESCE(p.on_to, {FAR_FUTURE}) >= h.date
  JOIN kpi_eligibility el ON el.department_id = p.department_id AND el.feature = h.feature
  GROUP BY p.department_id, h.date, h.feature
),
cells AS (
  SELECT hd.department_id, hd.date, f.feature, hd.headcount,
         CASE WHEN el.department_id IS NULL THEN 0 ELSE hd.headcount END AS eligible,
         COALESCE(u.users, 0) AS users
  FROM heads hd
  CROSS JOIN kpi_features f
  LEFT JOIN kpi_eligibility el ON el.department_id = hd.department_id AND el.feature = f.feature
  LEFT JOIN users u ON u.department_id = hd.department_id AND u.date = hd.date AND u.feature = f.feature
)
SELECT {{select}} c.feature, c.date AS data_through,
       CAST(SUM(c.headcount) AS BIGINT) AS headcount,
       CAST(SUM(c.eligible) AS BIGINT) AS eligible,
       CAST(SUM(c.users) AS BIGINT) AS users
FROM cells c
JOIN kpi_departments dep ON dep.department_id = c.department_id
GROUP BY {{group}} c.feature, c.date
"""
