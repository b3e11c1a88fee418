-- Retention by sign-up cohort: for each day, ISO week or month of the report time zone holding users.created_at, the cohort's size and how many of it were active in each later period (k = 0 is the sign-up period); a zero-filled triangle.
-- class: read
-- reads: users, activities
-- Active as in engagement.active: a counted post (by a user, not dated before
-- the sign-up). Only the cohorts' own users and the posts from the first
-- cohort on are read; created_at bounds are in UTC (a day wider each side,
-- then cut by local date) so the indexes are used.
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today
), b AS (
    SELECT r.*,
           (r.first_day::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day' AS lo_utc,
           ((r.last_day + ('1 ' || %(unit)s)::interval)::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
               + interval '1 day' AS hi_utc
    FROM r
), periods AS (
    SELECT p::date AS period_start, (p + ('1 ' || %(unit)s)::interval)::date - 1 AS period_end, i::int AS idx
    FROM r, generate_series(r.first_day::timestamp, r.last_day::timestamp, ('1 ' || %(unit)s)::interval)
         WITH ORDINALITY AS g(p, i)
), cohort_users AS (
    SELECT u.uuid, u.created_at,
           date_trunc(%(unit)s, (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS cohort
    FROM b, users u
    WHERE u.created_at >= b.lo_utc AND u.created_at < b.hi_utc
), cohorts AS (
    SELECT c.* FROM cohort_users c, r WHERE c.cohort >= r.first_day AND c.cohort <= r.last_day
), sizes AS (
    SELECT cohort, count(*) AS n FROM cohorts GROUP BY cohort
), active AS (
    SELECT DISTINCT c.uuid, c.cohort,
           date_trunc(%(unit)s, (a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS period
    FROM b, cohorts c
    JOIN activities a ON a.user_uuid = c.uuid AND a.created_at >= c.created_at
    WHERE a.created_at >= b.lo_utc AND a.created_at < b.hi_utc
), kept AS (
    SELECT cohort, period, count(*) AS n FROM active, r WHERE period <= r.last_day GROUP BY cohort, period
)
SELECT c.period_start AS cohort_start,
       coalesce(s.n, 0)::bigint AS cohort_size,
       (p.idx - c.idx) AS period_index,
       coalesce(k.n, 0)::bigint AS retained,
       CASE WHEN s.n > 0 THEN round(coalesce(k.n, 0)::numeric / s.n, 4)::float8 END AS retained_share,
       (p.period_end >= r.today) AS partial
FROM periods c
JOIN periods p ON p.idx >= c.idx
CROSS JOIN r
LEFT JOIN sizes s ON s.cohort = c.period_start
LEFT JOIN kept k ON k.cohort = c.period_start AND k.period = p.period_start
ORDER BY c.period_start, p.period_start
