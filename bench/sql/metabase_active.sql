-- Benchmark baseline: DAU with trailing WAU and MAU per local day, as an analyst writes it in Metabase (distinct authors over a range join of days).
-- class: read
WITH user_days AS (
    SELECT DISTINCT user_uuid, ((created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day
    FROM activities
    WHERE created_at >= %(start_day)s::date - 29
), days AS (
    SELECT d::date AS day FROM generate_series(%(start_day)s::date, %(end_day)s::date, interval '1 day') AS d
)
SELECT d.day,
       count(DISTINCT u.user_uuid) FILTER (WHERE u.day = d.day) AS dau,
       count(DISTINCT u.user_uuid) FILTER (WHERE u.day > d.day - 7) AS wau,
       count(DISTINCT u.user_uuid) AS mau
FROM days d
LEFT JOIN user_days u ON u.day BETWEEN d.day - 27 AND d.day
GROUP BY d.day
ORDER BY d.day
