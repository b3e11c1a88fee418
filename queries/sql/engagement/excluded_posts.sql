-- Posts in whole periods of the report time zone that engagement does not count: by an author with no users row (orphans), or dated before the author's sign-up.
-- class: read
-- reads: users, activities
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           (date_trunc(%(unit)s, %(end_day)s::date::timestamp) + ('1 ' || %(unit)s)::interval)::date AS after_day
), b AS (
    SELECT r.*,
           (r.first_day::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day' AS lo_utc,
           (r.after_day::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 day' AS hi_utc
    FROM r
)
SELECT count(*) FILTER (WHERE u.uuid IS NULL)::bigint AS orphan_posts,
       count(*) FILTER (WHERE a.created_at < u.created_at)::bigint AS early_posts
FROM b, activities a
LEFT JOIN users u ON u.uuid = a.user_uuid
WHERE a.created_at >= b.lo_utc AND a.created_at < b.hi_utc
  AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= b.first_day
  AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date < b.after_day
