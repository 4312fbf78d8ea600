"""The SQL of the survey KPIs: waves, satisfaction items, departments, needs and feedback.

The statements of :mod:`wecom_eval.kpis.satisfaction` bind their values by position (``?``);
those of :mod:`wecom_eval.kpis.leaderboard` by name (``$wave``), with the ``{item_filter}`` slot
filled by :func:`~wecom_eval.kpis.queries.render`.
"""

from __future__ import annotations

# ---- survey feedback (best department) ------------------------------------------------------

FEEDBACK = """
WITH answers AS (
  SELECT r.department_id, r.respondent_id, AVG(CAST(i.score AS DOUBLE)) AS score
  FROM survey_responses r
  JOIN survey_items i ON i.wave = r.wave AND i.respondent_id = r.respondent_id
  WHERE r.wave = $wave AND i.score IS NOT NULL AND {item_filter}
  GROUP BY r.department_id, r.respondent_id
)
SELECT dep.department_id, dep.department, COUNT(*) AS respondents,
       -- in respondent order: a float sum's rounding must not depend on DuckDB's threads
       AVG(a.score ORDER BY a.respondent_id) AS mean_score, STDDEV_SAMP(a.score ORDER BY a.respondent_id) AS sd_score
FROM answers a JOIN kpi_departments dep ON dep.department_id = a.department_id
GROUP BY dep.department_id, dep.department
"""

SURVEY_WAVES = """
SELECT wave, MAX(submitted_on) AS last_submitted, COUNT(*) AS respondents
FROM survey_responses GROUP BY wave
"""


# ---- satisfaction --------------------------------------------------------------------------

# Waves with answers up to a day (?): first and last day, respondents, Likert items answered.
WAVES = """
SELECT r.wave, min(r.submitted_on) AS first_day, max(r.submitted_on) AS last_day,
       count(*) AS respondents,
       (SELECT count(DISTINCT i.item) FROM survey_items i WHERE i.wave = r.wave) AS items
FROM survey_responses r
WHERE r.submitted_on IS NULL OR r.submitted_on <= ?
GROUP BY r.wave ORDER BY max(r.submitted_on), r.wave
"""

# Long Likert answers of a wave (?).
ITEM_SCORES = """
SELECT i.respondent_id, r.department_id, i.item, i.score
FROM survey_items i JOIN survey_responses r USING (wave, respondent_id)
WHERE i.wave = ? AND i.score IS NOT NULL ORDER BY i.item, i.respondent_id
"""

# Answers per item and score of a wave (?).
LIKERT_COUNTS = """
SELECT item, score, count(*) AS n FROM survey_items WHERE wave = ? AND score IS NOT NULL
GROUP BY item, score ORDER BY item, score
"""

# A wave (?) and one of its items (?) by department: responses, mean, top-2-box share.
DEPARTMENT_SCORES = """
SELECT d.path AS department, count(*) AS responses, avg(i.score) AS mean,
       avg(CASE WHEN i.score >= 4 THEN 1.0 ELSE 0.0 END) AS top2
FROM survey_items i JOIN survey_responses r USING (wave, respondent_id)
LEFT JOIN departments d ON d.department_id = r.department_id
WHERE i.wave = ? AND i.item = ? AND i.score IS NOT NULL
GROUP BY d.path ORDER BY d.path
"""

# Respondents of a wave (?), its last day and the employees on the roster that day.
ROSTER_SHARE = """
WITH w AS (SELECT count(*) AS respondents, max(submitted_on) AS day FROM survey_responses WHERE wave = ?)
SELECT w.respondents, w.day,
       (SELECT count(*) FROM employees e WHERE e.hire_date <= w.day
          AND (e.leave_date IS NULL OR e.leave_date >= w.day)) AS roster
FROM w
"""

# Multi-select answers of a wave (? twice): count and share of the respondents.
CHOICES = """
SELECT c.question, c.choice, count(*) AS count,
       count(*) / (SELECT count(*) FROM survey_responses r WHERE r.wave = ?) AS share
FROM survey_choices c WHERE c.wave = ?
GROUP BY c.question, c.choice ORDER BY c.question, count(*) DESC, c.choice
"""

# Free-text answers of a wave (?).
TEXT_ANSWERS = """
SELECT count(*) FROM survey_text WHERE wave = ?
"""

# The free-text answers of a wave (?), at most ?, in an order that does not follow the respondents'.
COMMENTS = """
SELECT question, text FROM survey_text WHERE wave = ? ORDER BY hash(respondent_id), question LIMIT ?
"""

# Respondents who wrote free text in a wave (?).
TEXT_RESPONDENTS = "SELECT count(DISTINCT respondent_id) FROM survey_text WHERE wave = ?"
