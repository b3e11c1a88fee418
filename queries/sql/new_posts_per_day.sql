-- New posts per calendar day in the report time zone for the last 7 days, zero-filled, oldest first; today is partial.
-- class: read
-- reads: activities
-- optional: as_of
-- fallback: live.new_posts_per_day
-- From the growth rollup as growth_summary counts them: whole quarter hours
-- before `through` summed from dashboard_rollup_quarter, the rest (the tail
-- from `through` on, edges of a day not on a quarter hour) counted live.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH b AS (
    SELECT (coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s)::date AS today
), cut AS MATERIALIZED (
    SELECT d.day, d.lo, d.hi,
           CASE WHEN r.rlo < r.rhi THEN r.rlo ELSE d.hi END AS m1,
           CASE WHEN r.rlo < r.rhi THEN r.rhi ELSE d.hi END AS m2
    FROM public.dashboard_rollup_state s
    CROSS JOIN LATERAL (
        SELECT b.today - 6 + i AS day,
               least(((b.today - 6 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                     (((b.today - 6 + i)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS lo,
               least(((b.today - 5 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                     (((b.today - 5 + i)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS hi
        FROM b, generate_series(0, 6) AS i
    ) AS d
    CROSS JOIN LATERAL (
        SELECT date_bin('15 minutes', d.lo - interval '1 microsecond', timestamp '2000-01-01')
                   + interval '15 minutes' AS rlo,
               least(date_bin('15 minutes', d.hi, timestamp '2000-01-01'), s.through) AS rhi
    ) AS r
    WHERE s.tbl = 'activities'
)
SELECT c.day,
       ((SELECT coalesce(sum(q.n), 0) FROM public.dashboard_rollup_quarter q
         WHERE q.tbl = 'activities' AND q.bucket >= c.m1 AND q.bucket < c.m2)
        + (SELECT count(*) FROM public.activities a WHERE a.created_at >= c.lo AND a.created_at < c.m1)
        + (SELECT count(*) FROM public.activities a WHERE a.created_at >= c.m2 AND a.created_at < c.hi))::bigint AS count,
       c.day = b.today AS partial
FROM cut c CROSS JOIN b
ORDER BY c.day
