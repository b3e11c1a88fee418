-- Conversations started (message groups by their first message) per bucket (day, ISO week from Monday, or month) of the report time zone's calendar, zero-filled.
-- class: read
-- reads: message_groups
-- Buckets as in explore.new_users. A conversation counts once, in the bucket
-- of message_groups.started_at (the earliest sent_at of its messages, UTC wall
-- clock); the range is given in UTC so the started_at index is used. Its
-- running total ends at the number of conversations on the platform.
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
    SELECT date_trunc(%(unit)s, (g.started_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS bucket, count(*) AS n
    FROM public.message_groups g, r
    WHERE g.started_at >= r.start_utc AND g.started_at < r.end_utc
    GROUP BY 1
), before AS (
    SELECT count(*) AS n FROM public.message_groups g, r WHERE %(cumulative)s AND g.started_at < r.start_utc
)
SELECT greatest(b.bucket, r.start_day) AS period_start,
       least(b.natural_end, r.end_day) AS period_end,
       coalesce(c.n, 0)::bigint AS count,
       CASE WHEN %(cumulative)s
            THEN (SELECT n FROM before) + sum(coalesce(c.n, 0)) OVER (ORDER BY b.bucket) END::bigint AS cumulative,
       (b.bucket < r.start_day OR b.natural_end > r.end_day OR b.natural_end >= r.today) AS partial
FROM buckets b CROSS JOIN r LEFT JOIN counts c ON c.bucket = b.bucket
ORDER BY b.bucket
