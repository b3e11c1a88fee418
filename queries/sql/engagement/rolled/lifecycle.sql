-- Growth accounting per period as engagement.lifecycle answers it, from the zone's engagement state for closed periods plus the posts from today on counted live.
-- class: read
-- reads: users, activities
-- Only when the state reaches today. The open period P: S = users the state
-- saw in P; T = today's authors the state has not seen in P. Active in P-1:
-- for S their active period before, for T their last active day.
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today,
           date_trunc(%(unit)s, %(today)s::date::timestamp)::date AS open_p,
           (date_trunc(%(unit)s, %(today)s::date::timestamp) + ('1 ' || %(unit)s)::interval)::date - 1 AS open_end,
           (date_trunc(%(unit)s, %(today)s::date::timestamp) - ('1 ' || %(unit)s)::interval)::date AS prev_p
), t AS (  -- the authors of counted posts from today on: one primary-key lookup of users each
    SELECT x.user_uuid,
           date_trunc(%(unit)s, (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS signup_p
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
), tl AS (  -- T: today's authors not seen by the state in the open period
    SELECT t.signup_p, e.last_day
    FROM r, t LEFT JOIN public.engagement_users e ON e.tz = %(tz)s AND e.user_uuid = t.user_uuid
    WHERE e.last_day IS NULL OR e.last_day < r.open_p
), s AS (
    SELECT count(*) FILTER (WHERE e.last_day >= r.open_p) AS active,
           count(*) FILTER (WHERE e.last_day >= r.open_p
                            AND date_trunc(%(unit)s, e.signup::timestamp)::date = r.open_p) AS new,
           count(*) FILTER (WHERE e.last_day >= r.open_p AND r.prev_p = CASE %(unit)s WHEN 'day' THEN e.prev_day
                                                                                     WHEN 'week' THEN e.prev_week
                                                                                     ELSE e.prev_month END) AS retained,
           count(*) FILTER (WHERE e.last_day >= r.prev_p AND e.last_day < r.open_p) AS in_prev_only
    FROM r, public.engagement_users e
    WHERE e.tz = %(tz)s AND e.last_day >= r.prev_p
), open AS (
    SELECT r.open_p AS period_start,
           s.active + (SELECT count(*) FROM tl) AS active,
           s.new + (SELECT count(*) FROM tl WHERE tl.signup_p = r.open_p) AS new,
           s.retained + (SELECT count(*) FROM tl WHERE tl.last_day >= r.prev_p) AS retained,
           s.in_prev_only - (SELECT count(*) FROM tl WHERE tl.last_day >= r.prev_p) AS churned
    FROM r, s
    WHERE r.open_p <= r.last_day
), periods AS (
    SELECT p::date AS period_start, (p + ('1 ' || %(unit)s)::interval)::date - 1 AS period_end
    FROM r, generate_series(r.first_day::timestamp, r.last_day::timestamp, ('1 ' || %(unit)s)::interval) AS p
), counted AS (
    SELECT p.period_start, p.period_end,
           coalesce(o.new, m.new, 0) AS new,
           coalesce(o.retained, m.retained, 0) AS retained,
           coalesce(o.active - o.new - o.retained, m.resurrected, 0) AS resurrected,
           coalesce(o.churned, m.churned, 0) AS churned,
           coalesce(o.active, m.active_users, 0) AS active
    FROM periods p
    LEFT JOIN open o ON o.period_start = p.period_start
    LEFT JOIN public.engagement_periods m ON m.tz = %(tz)s AND m.unit = %(unit)s AND m.period_start = p.period_start
)
SELECT c.period_start, c.period_end,
       c.new::bigint AS new, c.retained::bigint AS retained, c.resurrected::bigint AS resurrected,
       c.churned::bigint AS churned, c.active::bigint AS active_users,
       CASE WHEN c.churned > 0 THEN round((c.new + c.resurrected)::numeric / c.churned, 4)::float8 END AS quick_ratio,
       (c.period_end >= r.today) AS partial
FROM counted c CROSS JOIN r
ORDER BY c.period_start
