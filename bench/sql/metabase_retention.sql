-- Benchmark baseline: weekly sign-up cohorts and the share active each later week, the usual hand-written cohort query.
-- class: read
WITH cohorts AS (
    SELECT uuid AS user_uuid, date_trunc('week', (created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS cohort
    FROM users
    WHERE ((created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= date_trunc('week', %(start_day)s::date)
), activity AS (
    SELECT DISTINCT user_uuid, date_trunc('week', (created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS week
    FROM activities
)
SELECT c.cohort, a.week, count(DISTINCT c.user_uuid) AS retained,
       (SELECT count(*) FROM cohorts c2 WHERE c2.cohort = c.cohort) AS cohort_size
FROM cohorts c JOIN activity a ON a.user_uuid = c.user_uuid AND a.week >= c.cohort
GROUP BY c.cohort, a.week
ORDER BY 1, 2
