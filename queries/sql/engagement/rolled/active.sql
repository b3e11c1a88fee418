-- Active users per period as engagement.active answers them, from the zone's engagement state for closed days plus what the posts from today on add (engagement.rolled.today, passed in as counts).
-- class: read
-- reads: users, activities
-- Only when the state reaches today (through = today, not dirty): every day
-- before today is in engagement_users / engagement_periods, and the open
-- periods' rows there hold what the state saw of them so far (its last day
-- wrote them). Today's authors the state has not seen in the open period come
-- as counts (engagement.rolled.today): `t_active`, and of them `t_7` / `t_28`
-- not active in the 6 / 27 days before today.
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today,
           date_trunc(%(unit)s, %(today)s::date::timestamp)::date AS open_p
), open AS (
    SELECT r.open_p AS period_start,
           coalesce(m.active_users, 0) + %(t_active)s::bigint AS n,
           coalesce(d.wau, 0) + %(t_7)s::bigint AS wau,
           coalesce(d.mau, 0) + %(t_28)s::bigint AS mau
    FROM r
    LEFT JOIN public.engagement_periods m ON m.tz = %(tz)s AND m.unit = %(unit)s AND m.period_start = r.open_p
    LEFT JOIN public.engagement_periods d ON d.tz = %(tz)s AND d.unit = 'day' AND d.period_start = r.today
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
