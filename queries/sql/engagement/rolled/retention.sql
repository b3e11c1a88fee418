-- Retention by sign-up cohort as engagement.retention answers it, from the zone's engagement state for closed periods plus what the posts from today on add (engagement.rolled.today, passed in as counts).
-- class: read
-- reads: users, activities
-- Only when the state reaches today. Cohort sizes and the cells of closed
-- periods come from the state; the open period's cells from what the state
-- saw of it so far (its last day wrote them) plus today's authors it has not
-- seen in it, per cohort (`t_cohorts`, `t_counts`: engagement.rolled.today).
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
), open_cells AS (  -- today's authors the state has not seen in the open period, per cohort
    SELECT t.cohort, t.n FROM unnest(%(t_cohorts)s::date[], %(t_counts)s::bigint[]) AS t(cohort, n)
), cells AS (  -- the open period's cells in the state hold what it saw of that period so far
    SELECT x.cohort, x.period, sum(x.n) AS n
    FROM (
        SELECT m.cohort_start AS cohort, m.period_start AS period, m.retained AS n
        FROM r, public.engagement_cells m
        WHERE m.tz = %(tz)s AND m.unit = %(unit)s AND m.period_start >= r.first_day AND m.period_start <= r.last_day
          AND m.cohort_start >= r.first_day
        UNION ALL
        SELECT o.cohort, r.open_p, o.n FROM r, open_cells o
        WHERE r.open_p <= r.last_day AND o.cohort >= r.first_day
    ) AS x
    GROUP BY x.cohort, x.period
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
