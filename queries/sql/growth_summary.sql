-- The four growth questions in one statement, from the hourly rollup plus live counts; exact at any size.
-- class: read
-- reads: users, activities
-- optional: as_of
-- Every number is a count of created_at in UTC ranges [lo, hi): the 7 report
-- days, the comparison span a week earlier, and all time. Whole UTC hours
-- before the rollup's `through` mark are summed from dashboard_rollup_hourly;
-- the rest (hours not yet rolled up, today so far, part-hours of zones whose
-- midnight is not on a UTC hour, the same-time-last-week cut-off) is counted
-- live through the created_at indexes.
WITH b AS (
    SELECT local_now, local_now::date AS today
    FROM (SELECT coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s AS local_now) AS x
), spans AS (
    SELECT 'day' AS kind, b.today - 6 + i AS day,
           ((b.today - 6 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS lo,
           ((b.today - 5 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS hi
    FROM b, generate_series(0, 6) AS i
    UNION ALL
    SELECT 'previous', NULL,
           ((b.today - 13)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
           ((b.local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
    FROM b
    UNION ALL
    SELECT 'total', NULL, timestamp '-infinity', timestamp 'infinity'
), cut AS MATERIALIZED (
    -- [m1, m2): the whole rolled-up hours inside [lo, hi); empty (m1 = m2 = hi) when there are none.
    SELECT s.tbl, sp.kind, sp.day, sp.lo, sp.hi, s.through,
           CASE WHEN r.rlo < r.rhi THEN r.rlo ELSE sp.hi END AS m1,
           CASE WHEN r.rlo < r.rhi THEN r.rhi ELSE sp.hi END AS m2
    FROM public.dashboard_rollup_state s
    CROSS JOIN spans sp
    CROSS JOIN LATERAL (
        SELECT CASE WHEN sp.lo = '-infinity' THEN sp.lo
                    ELSE date_bin('1 hour', sp.lo - interval '1 microsecond', timestamp '2000-01-01') + interval '1 hour'
               END AS rlo,
               CASE WHEN sp.hi = 'infinity' THEN s.through
                    ELSE least(date_bin('1 hour', sp.hi, timestamp '2000-01-01'), s.through)
               END AS rhi
    ) AS r
), counted AS (
    SELECT c.tbl, c.kind, c.day, c.through,
           (SELECT coalesce(sum(h.n), 0) FROM public.dashboard_rollup_hourly h
            WHERE h.tbl = c.tbl AND h.hour >= c.m1 AND h.hour < c.m2)
           + CASE c.tbl
               WHEN 'users' THEN
                   (SELECT count(*) FROM users u WHERE u.created_at >= c.lo AND u.created_at < c.m1)
                 + (SELECT count(*) FROM users u WHERE u.created_at >= c.m2 AND u.created_at < c.hi)
               ELSE
                   (SELECT count(*) FROM activities a WHERE a.created_at >= c.lo AND a.created_at < c.m1)
                 + (SELECT count(*) FROM activities a WHERE a.created_at >= c.m2 AND a.created_at < c.hi)
             END AS n
    FROM cut c
)
SELECT CASE c.tbl WHEN 'users' THEN 'users' ELSE 'posts' END AS metric, c.kind, c.day,
       c.n::bigint AS count, coalesce(c.day = b.today, false) AS partial,
       nullif(c.through, '-infinity') AS rollup_through
FROM counted c CROSS JOIN b
ORDER BY 1, 2, 3
