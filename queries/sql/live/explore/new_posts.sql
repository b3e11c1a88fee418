-- New posts per bucket (day, ISO week from Monday, or month) of the report time zone's calendar, zero-filled, oldest first. Counted live: the answer where the growth rollup is absent.
-- class: read
-- reads: activities
-- Buckets as in explore.new_users: local dates, never hours, so DST days stay one bucket.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH r AS (
    SELECT %(start_day)s::date AS start_day, %(end_day)s::date AS end_day, %(today)s::date AS today,
           least((%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 ((%(start_day)s::date::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS start_utc,
           least(((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((%(end_day)s::date + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS end_utc
), buckets AS (
    SELECT b::date AS bucket, (b + ('1 ' || %(unit)s)::interval)::date - 1 AS natural_end
    FROM r, generate_series(date_trunc(%(unit)s, r.start_day::timestamp), r.end_day::timestamp,
                            ('1 ' || %(unit)s)::interval) AS b
), counts AS (
    SELECT date_trunc(%(unit)s, (a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS bucket, count(*) AS n
    FROM activities a, r
    WHERE a.created_at >= r.start_utc AND a.created_at < r.end_utc
    GROUP BY 1
), before AS (
    SELECT count(*) AS n FROM activities a, r WHERE %(cumulative)s AND a.created_at < r.start_utc
)
SELECT greatest(b.bucket, r.start_day) AS period_start,
       least(b.natural_end, r.end_day) AS period_end,
       coalesce(c.n, 0)::bigint AS count,
       CASE WHEN %(cumulative)s
            THEN (SELECT n FROM before) + sum(coalesce(c.n, 0)) OVER (ORDER BY b.bucket) END::bigint AS cumulative,
       (b.bucket < r.start_day OR b.natural_end > r.end_day OR b.natural_end >= r.today) AS partial
FROM buckets b CROSS JOIN r LEFT JOIN counts c ON c.bucket = b.bucket
ORDER BY b.bucket
