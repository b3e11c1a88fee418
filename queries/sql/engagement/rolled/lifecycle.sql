-- Growth accounting per period as engagement.lifecycle answers it, from the zone's engagement state for closed periods plus what the posts from today on add (engagement.rolled.today, passed in as counts).
-- class: read
-- reads: users, activities
-- Only when the state reaches today. The open period P: S = users the state
-- saw in P, counted in P's row of engagement_periods (the state's last day
-- wrote it so far); T = today's authors the state has not seen in P, as counts
-- (engagement.rolled.today): `t_active`, of them `t_new` signed up in P and
-- `t_prev` active in P-1 (retained, and no longer churned).
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today,
           date_trunc(%(unit)s, %(today)s::date::timestamp)::date AS open_p
), open AS (
    SELECT r.open_p AS period_start,
           coalesce(s.active_users, 0) + %(t_active)s::bigint AS active,
           coalesce(s.new, 0) + %(t_new)s::bigint AS new,
           coalesce(s.retained, 0) + %(t_prev)s::bigint AS retained,
           coalesce(s.churned, 0) - %(t_prev)s::bigint AS churned
    FROM r
    LEFT JOIN public.engagement_periods s ON s.tz = %(tz)s AND s.unit = %(unit)s AND s.period_start = r.open_p
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
