-- Posts engagement does not count (orphans, and posts dated before the author's sign-up) in whole periods of the report time zone, from the zone's engagement state for closed days plus the posts from today on counted live.
-- class: read
-- reads: users, activities
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           (date_trunc(%(unit)s, %(end_day)s::date::timestamp) + ('1 ' || %(unit)s)::interval)::date AS after_day,
           %(today)s::date AS today
), kept AS (
    SELECT coalesce(sum(m.orphan_posts), 0) AS orphans, coalesce(sum(m.early_posts), 0) AS early
    FROM r, public.engagement_periods m
    WHERE m.tz = %(tz)s AND m.unit = 'day' AND m.period_start >= r.first_day AND m.period_start < r.after_day
), live AS (  -- from today on, per author: one primary-key lookup of users each
    SELECT coalesce(sum(x.n) FILTER (WHERE u.created_at IS NULL), 0) AS orphans,
           coalesce(sum((SELECT count(*) FROM unnest(x.times) AS t(at) WHERE t.at < u.created_at)), 0) AS early
    FROM (
        SELECT a.user_uuid, count(*) AS n, array_agg(a.created_at) AS times
        FROM r, activities a
        WHERE a.created_at >= (greatest(r.today, r.first_day)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
                              - interval '3 hours'
          AND a.created_at < (r.after_day::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '3 hours'
          AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= greatest(r.today, r.first_day)
          AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date < r.after_day
        GROUP BY a.user_uuid
    ) AS x
    LEFT JOIN LATERAL (SELECT u.created_at FROM users u WHERE u.uuid = x.user_uuid OFFSET 0) AS u ON true
)
SELECT (k.orphans + l.orphans)::bigint AS orphan_posts, (k.early + l.early)::bigint AS early_posts
FROM kept k, live l
