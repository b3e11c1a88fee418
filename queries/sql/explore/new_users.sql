-- New users per bucket (day, ISO week from Monday, or month) of the report time zone's calendar, zero-filled, oldest first.
-- class: read
-- plan: on connect
-- reads: users
-- fallback: live.explore.new_users
-- Buckets are built on local dates, never on hours, so a 23- or 25-hour DST day
-- is still one day. A bucket is partial when the range cuts it or it has not
-- ended yet. Counts come from the growth rollup (migration 0006): UTC quarter
-- hours before its mark, each inside one local day (every UTC offset in use is a
-- multiple of 15 minutes), plus the rows after the mark counted live; so a
-- two-year range reads 70,000 index entries instead of every row. The running
-- total starts from the rows before the range (asked only when cumulative): the
-- rollup's total less the quarter hours from the range start to its mark.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH r AS (
    SELECT %(start_day)s::date AS start_day, %(end_day)s::date AS end_day, %(today)s::date AS today,
           least((%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 ((%(start_day)s::date::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS start_utc,
           least(((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((%(end_day)s::date + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS end_utc
), s AS (
    SELECT through, total FROM public.dashboard_rollup_state WHERE tbl = 'users'
), buckets AS (
    SELECT b::date AS bucket, (b + ('1 ' || %(unit)s)::interval)::date - 1 AS natural_end
    FROM r, generate_series(date_trunc(%(unit)s, r.start_day::timestamp), r.end_day::timestamp,
                            ('1 ' || %(unit)s)::interval) AS b
), counts AS (
    SELECT x.bucket, sum(x.n) AS n
    FROM (
        SELECT date_trunc(%(unit)s, (q.bucket AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS bucket, q.n
        FROM public.dashboard_rollup_quarter q, r, s
        WHERE q.tbl = 'users' AND q.bucket >= r.start_utc AND q.bucket < least(r.end_utc, s.through)
        UNION ALL
        SELECT date_trunc(%(unit)s, (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date, 1
        FROM public.users u, r, s
        WHERE u.created_at >= greatest(r.start_utc, s.through) AND u.created_at < r.end_utc
    ) AS x
    GROUP BY 1
), before AS (
    SELECT CASE WHEN r.start_utc <= s.through
                THEN s.total - (SELECT coalesce(sum(q.n), 0) FROM public.dashboard_rollup_quarter q
                                WHERE q.tbl = 'users' AND q.bucket >= r.start_utc AND q.bucket < s.through)
                ELSE s.total + (SELECT count(*) FROM public.users u
                                WHERE u.created_at >= s.through AND u.created_at < r.start_utc)
           END AS n
    FROM r, s
    WHERE %(cumulative)s
)
SELECT greatest(b.bucket, r.start_day) AS period_start,
       least(b.natural_end, r.end_day) AS period_end,
       coalesce(c.n, 0)::bigint AS count,
       CASE WHEN %(cumulative)s
            THEN (SELECT n FROM before) + sum(coalesce(c.n, 0)) OVER (ORDER BY b.bucket) END::bigint AS cumulative,
       (b.bucket < r.start_day OR b.natural_end > r.end_day OR b.natural_end >= r.today) AS partial
FROM buckets b CROSS JOIN r LEFT JOIN counts c ON c.bucket = b.bucket
ORDER BY b.bucket
