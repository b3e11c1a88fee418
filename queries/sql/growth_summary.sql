-- The four growth questions in one statement, from the growth rollup plus live counts; exact at any size.
-- class: read
-- plan: generic
-- reads: users, activities
-- optional: as_of
-- Every number is a count of created_at in UTC ranges [lo, hi): the 7 report
-- days and the comparison span a week earlier (to the same local time). Whole
-- minutes before the rollup's `through` mark come from dashboard_rollup_quarter
-- (migrations 0006, 0009): sums of whole UTC quarter hours, and the per-minute
-- counts of a quarter hour an edge falls in (the same-time-last-week cut-off;
-- a day that does not start on a quarter hour, none in any zone in use today).
-- The rest is counted live through the created_at indexes: the tail from
-- `through` on, and an edge's part-minute. An end past the middle of its
-- minute takes the whole minute and subtracts its rest, counted live: at most
-- half a minute of rows is counted at the cut-off, however busy the platform
-- (a start is rounded up, up to a minute, and only a day of a zone on local
-- mean time starts mid-minute).
-- "All time" is the rollup's running total (every row before `through`) plus
-- the live tail: a cost that does not grow with the length of history.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH b AS (
    SELECT local_now, local_now::date AS today
    FROM (SELECT coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s AS local_now) AS x
), spans AS (
    SELECT 'day' AS kind, b.today - 6 + i AS day,
           least(((b.today - 6 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((b.today - 6 + i)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS lo,
           least(((b.today - 5 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((b.today - 5 + i)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS hi
    FROM b, generate_series(0, 6) AS i
    UNION ALL
    SELECT 'previous', NULL,
           least(((b.today - 13)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((b.today - 13)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond'),
           ((b.local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
    FROM b
), cut AS MATERIALIZED (
    -- [m1, m2): the rolled-up part of [lo, hi) on minute boundaries: lo rounded up
    -- to its minute, hi to the nearest one (up only past the minute's middle),
    -- neither past `through`; empty (m1 = m2 = hi) when there is none. k1, k2:
    -- the minutes of their quarter hours (q1, q2) that m1 and m2 start.
    SELECT s.tbl, sp.kind, sp.day, sp.lo, sp.hi, s.through, e.m1, e.m2,
           date_bin('15 minutes', e.m1, timestamp '2000-01-01') AS q1, date_part('minute', e.m1)::int %% 15 AS k1,
           date_bin('15 minutes', e.m2, timestamp '2000-01-01') AS q2, date_part('minute', e.m2)::int %% 15 AS k2
    FROM public.dashboard_rollup_state s
    CROSS JOIN spans sp
    CROSS JOIN LATERAL (
        SELECT date_trunc('minute', sp.lo - interval '1 microsecond') + interval '1 minute' AS rlo,
               least(date_trunc('minute', sp.hi + interval '29.999999 seconds'), s.through) AS rhi
    ) AS r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.rlo < r.rhi THEN r.rlo ELSE sp.hi END AS m1,
               CASE WHEN r.rlo < r.rhi THEN r.rhi ELSE sp.hi END AS m2
    ) AS e
), counted AS (
    -- Rolled up in [m1, m2): the quarter hours from q1 up to q2, less q1's minutes
    -- before m1, plus q2's minutes before m2 (read from the row only when k > 0).
    SELECT c.tbl, c.kind, c.day, c.through,
           (SELECT coalesce(sum(q.n), 0) FROM public.dashboard_rollup_quarter q
            WHERE q.tbl = c.tbl AND q.bucket >= c.q1 AND q.bucket < c.q2)
           - CASE WHEN c.k1 = 0 OR c.m1 = c.m2 THEN 0 ELSE coalesce(
                 (SELECT (SELECT sum(v) FROM unnest(q.minutes[1:c.k1]) AS v) FROM public.dashboard_rollup_quarter q
                  WHERE q.tbl = c.tbl AND q.bucket = c.q1), 0) END
           + CASE WHEN c.k2 = 0 OR c.m1 = c.m2 THEN 0 ELSE coalesce(
                 (SELECT (SELECT sum(v) FROM unnest(q.minutes[1:c.k2]) AS v) FROM public.dashboard_rollup_quarter q
                  WHERE q.tbl = c.tbl AND q.bucket = c.q2), 0) END
           -- The live edges; a CASE arm's subquery runs only where its range is not empty.
           + CASE WHEN c.lo >= c.m1 THEN 0
                  WHEN c.tbl = 'users' THEN
                      (SELECT count(*) FROM users u WHERE u.created_at >= c.lo AND u.created_at < c.m1)
                  ELSE (SELECT count(*) FROM activities a WHERE a.created_at >= c.lo AND a.created_at < c.m1)
             END
           -- Between m2 and hi: added when m2 is before hi, subtracted when after.
           + CASE WHEN c.m2 = c.hi THEN 0 WHEN c.m2 < c.hi THEN 1 ELSE -1 END
             * CASE WHEN c.m2 = c.hi THEN 0
                    WHEN c.tbl = 'users' THEN
                        (SELECT count(*) FROM users u
                         WHERE u.created_at >= least(c.m2, c.hi) AND u.created_at < greatest(c.m2, c.hi))
                    ELSE (SELECT count(*) FROM activities a
                          WHERE a.created_at >= least(c.m2, c.hi) AND a.created_at < greatest(c.m2, c.hi))
               END AS n
    FROM cut c
    UNION ALL
    -- "<= infinity" is always true (a row dated infinity counts too); with both
    -- bounds the planner estimates a narrow range (not a third of the table) and
    -- keeps to the created_at index.
    SELECT s.tbl, 'total', NULL, s.through,
           s.total + CASE s.tbl
               WHEN 'users' THEN
                   (SELECT count(*) FROM users u WHERE u.created_at >= s.through AND u.created_at <= 'infinity')
               ELSE
                   (SELECT count(*) FROM activities a WHERE a.created_at >= s.through AND a.created_at <= 'infinity')
           END
    FROM public.dashboard_rollup_state s
)
SELECT CASE c.tbl WHEN 'users' THEN 'users' ELSE 'posts' END AS metric, c.kind, c.day,
       c.n::bigint AS count, coalesce(c.day = b.today, false) AS partial,
       nullif(c.through, '-infinity') AS rollup_through
FROM counted c CROSS JOIN b
ORDER BY 1, 2, 3
