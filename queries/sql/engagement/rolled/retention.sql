-- Retention by sign-up cohort as engagement.retention answers it, from the zone's engagement state for closed periods plus the posts from today on counted live.
-- class: read
-- reads: users, activities
-- Only when the state reaches today. Cohort sizes and the cells of closed
-- periods come from the state; the open period's cells from the users the
-- state saw in it and the authors from today on.
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today,
           date_trunc(%(unit)s, %(today)s::date::timestamp)::date AS open_p,
           (date_trunc(%(unit)s, %(today)s::date::timestamp) + ('1 ' || %(unit)s)::interval)::date - 1 AS open_end
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
), sizes AS (  -- sign-ups per cohort: closed days from the state, today on from users
    SELECT x.cohort, sum(x.n) AS n
    FROM (
        SELECT date_trunc(%(unit)s, m.period_start::timestamp)::date AS cohort, m.signups AS n
        FROM r, public.engagement_periods m
        WHERE m.tz = %(tz)s AND m.unit = 'day' AND m.period_start >= r.first_day AND m.period_start < r.today
        UNION ALL
        SELECT date_trunc(%(unit)s, (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date, 1
        FROM b, users u
        WHERE u.created_at >= (greatest(b.today, b.first_day)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day'
          AND u.created_at < b.hi_utc
          AND ((u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= greatest(b.today, b.first_day)
    ) AS x
    WHERE x.cohort >= (SELECT first_day FROM r) AND x.cohort <= (SELECT last_day FROM r)
    GROUP BY x.cohort
), t AS (  -- the authors of counted posts from today on: one primary-key lookup of users each
    SELECT x.user_uuid,
           date_trunc(%(unit)s, (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS cohort
    FROM (
        SELECT a.user_uuid, max(a.created_at) AS last_at
        FROM r, activities a
        WHERE a.created_at >= (r.today::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '3 hours'
          AND a.created_at < ((r.open_end + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '3 hours'
          AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date BETWEEN r.today AND r.open_end
        GROUP BY a.user_uuid
    ) AS x
    CROSS JOIN LATERAL (SELECT u.created_at FROM users u WHERE u.uuid = x.user_uuid OFFSET 0) AS u
    WHERE x.last_at >= u.created_at
), open_cells AS (
    SELECT x.cohort, count(*) AS n
    FROM (
        SELECT date_trunc(%(unit)s, e.signup::timestamp)::date AS cohort
        FROM r, public.engagement_users e
        WHERE e.tz = %(tz)s AND e.last_day >= r.open_p
        UNION ALL
        SELECT t.cohort
        FROM r, t LEFT JOIN public.engagement_users e ON e.tz = %(tz)s AND e.user_uuid = t.user_uuid
        WHERE e.last_day IS NULL OR e.last_day < r.open_p
    ) AS x
    GROUP BY x.cohort
), cells AS (
    SELECT m.cohort_start AS cohort, m.period_start AS period, m.retained AS n
    FROM r, public.engagement_cells m
    WHERE m.tz = %(tz)s AND m.unit = %(unit)s AND m.period_start >= r.first_day AND m.period_start <= r.last_day
      AND m.cohort_start >= r.first_day
    UNION ALL
    SELECT o.cohort, r.open_p, o.n FROM r, open_cells o
    WHERE r.open_p <= r.last_day AND o.cohort >= r.first_day
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
LEFT JOIN cells k ON k.cohort = c.period_start AND k.period = p.period_start
ORDER BY c.period_start, p.period_start
