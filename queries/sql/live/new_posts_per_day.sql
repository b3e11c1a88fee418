-- New posts per calendar day in the report time zone for the last 7 days, zero-filled, oldest first; today is partial. Counted live: the answer where the growth rollup is absent.
-- class: read
-- reads: activities
-- optional: as_of
-- created_at holds UTC wall-clock time: it is converted to the report zone for
-- bucketing, and the range is given in UTC so the created_at index is used.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH bounds AS (
    SELECT (coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s)::date AS today
), days AS (
    SELECT b.today - 6 + i AS day FROM bounds b, generate_series(0, 6) AS i
), counts AS (
    SELECT ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
    FROM activities a, bounds b
    WHERE a.created_at >= least(((b.today - 6)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                                (((b.today - 6)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
      AND a.created_at < least(((b.today + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                               (((b.today + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
    GROUP BY 1
)
SELECT d.day, coalesce(c.n, 0)::bigint AS count, d.day = b.today AS partial
FROM days d CROSS JOIN bounds b LEFT JOIN counts c ON c.day = d.day
ORDER BY d.day
