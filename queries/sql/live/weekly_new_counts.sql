-- New users and posts in the last 7 calendar days and in the same span one week earlier, for honest KPI deltas. Counted live: the answer where the growth rollup is absent.
-- class: read
-- reads: users, activities
-- optional: as_of
-- "current" is exactly the 7 daily buckets of the charts (today included).
-- "previous" starts 7 days earlier and stops at the same local time a week
-- ago, so a partial today is compared with the same part of that day.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH b AS (
    SELECT local_now, local_now::date AS today
    FROM (SELECT coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s AS local_now) AS x
), w AS (
    SELECT least(((today - 13)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((today - 13)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS prev_start,
           ((local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS prev_end,
           least(((today - 6)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((today - 6)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS cur_start,
           least(((today + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((today + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS cur_end
    FROM b
)
SELECT 'users' AS metric,
       count(*) FILTER (WHERE u.created_at >= w.cur_start)::bigint AS current,
       count(*) FILTER (WHERE u.created_at < w.prev_end)::bigint AS previous
FROM users u, w
WHERE u.created_at >= w.prev_start AND u.created_at < w.cur_end
UNION ALL
SELECT 'posts',
       count(*) FILTER (WHERE a.created_at >= w.cur_start)::bigint,
       count(*) FILTER (WHERE a.created_at < w.prev_end)::bigint
FROM activities a, w
WHERE a.created_at >= w.prev_start AND a.created_at < w.cur_end
