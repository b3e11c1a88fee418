-- Active users per period as engagement.active answers them, from the zone's engagement state for closed days plus the posts from today on counted live.
-- class: read
-- reads: users, activities
-- Only when the state reaches today (through = today, not dirty): every day
-- before today is in engagement_users / engagement_periods. A user counts in
-- the open period when the state saw them in it or they posted today.
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today,
           date_trunc(%(unit)s, %(today)s::date::timestamp)::date AS open_p,
           (date_trunc(%(unit)s, %(today)s::date::timestamp) + ('1 ' || %(unit)s)::interval)::date - 1 AS open_end
), t AS (  -- the authors of counted posts from today on: one primary-key lookup of users each
    SELECT x.user_uuid
    FROM (
        SELECT a.user_uuid, max(a.created_at) AS last_at
        FROM r, activities a
        WHERE a.created_at >= (r.today::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '3 hours'
          AND a.created_at < ((r.open_end + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '3 hours'
          AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date BETWEEN r.today AND r.open_end
        GROUP BY a.user_uuid
    ) AS x
    CROSS JOIN LATERAL (SELECT u.created_at FROM users u WHERE u.uuid = x.user_uuid OFFSET 0) AS u
    WHERE x.last_at >= u.created_at
), tl AS (
    SELECT e.last_day FROM t LEFT JOIN public.engagement_users e ON e.tz = %(tz)s AND e.user_uuid = t.user_uuid
), kept AS (
    SELECT count(*) FILTER (WHERE e.last_day >= r.open_p) AS in_open,
           count(*) FILTER (WHERE e.last_day >= r.today - 6) AS in_7,
           count(*) FILTER (WHERE e.last_day >= r.today - 27) AS in_28
    FROM r, public.engagement_users e
    WHERE e.tz = %(tz)s AND e.last_day >= least(r.open_p, r.today - 27)
), open AS (
    SELECT r.open_p AS period_start,
           k.in_open + (SELECT count(*) FROM tl WHERE tl.last_day IS NULL OR tl.last_day < r.open_p) AS n,
           k.in_7 + (SELECT count(*) FROM tl WHERE tl.last_day IS NULL OR tl.last_day < r.today - 6) AS wau,
           k.in_28 + (SELECT count(*) FROM tl WHERE tl.last_day IS NULL OR tl.last_day < r.today - 27) AS mau
    FROM r, kept k
    WHERE r.open_p <= r.last_day
), periods AS (
    SELECT p::date AS period_start, (p + ('1 ' || %(unit)s)::interval)::date - 1 AS period_end
    FROM r, generate_series(r.first_day::timestamp, r.last_day::timestamp, ('1 ' || %(unit)s)::interval) AS p
), counted AS (
    SELECT p.period_start, p.period_end,
           coalesce(o.n, m.active_users, 0) AS n,
           coalesce(o.wau, m.wau, 0) AS wau,
           coalesce(o.mau, m.mau, 0) AS mau
    FROM periods p
    LEFT JOIN open o ON o.period_start = p.period_start
    LEFT JOIN public.engagement_periods m ON m.tz = %(tz)s AND m.unit = %(unit)s AND m.period_start = p.period_start
)
SELECT c.period_start, c.period_end,
       c.n::bigint AS active_users,
       (c.period_end >= r.today) AS partial,
       CASE WHEN %(unit)s = 'day' THEN c.wau END::bigint AS wau,
       CASE WHEN %(unit)s = 'day' THEN c.mau END::bigint AS mau,
       CASE WHEN %(unit)s = 'day' AND c.mau > 0 THEN round(c.n::numeric / c.mau, 4)::float8 END AS stickiness
FROM counted c CROSS JOIN r
ORDER BY c.period_start
