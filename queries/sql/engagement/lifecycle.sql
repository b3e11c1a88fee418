-- Growth accounting per day, ISO week or month of the report time zone: active users split into new, retained and resurrected, and those churned since the period before; zero-filled.
-- class: read
-- reads: users, activities
-- Over users with a counted post (as in engagement.active) in P or in P-1:
-- new = active in P, signed up in P; retained = active in P and P-1;
-- resurrected = active in P, not in P-1, signed up before P; churned =
-- active in P-1, not in P. A counted post is never before its author's
-- sign-up, so the first three split the active users of P exactly.
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day,
           %(today)s::date AS today,
           ('1 ' || %(unit)s)::interval AS step
), b AS (
    SELECT r.*,
           ((r.first_day - r.step)::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day' AS lo_utc,
           ((r.last_day + r.step)::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 day' AS hi_utc
    FROM r
), up AS (
    SELECT DISTINCT x.user_uuid, x.period, x.signup
    FROM b, LATERAL (
        SELECT a.user_uuid,
               date_trunc(%(unit)s, (a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS period,
               date_trunc(%(unit)s, (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS signup
        FROM activities a
        JOIN users u ON u.uuid = a.user_uuid AND a.created_at >= u.created_at
        WHERE a.created_at >= b.lo_utc AND a.created_at < b.hi_utc
    ) AS x
    WHERE x.period >= (b.first_day - b.step)::date AND x.period <= b.last_day
), seq AS (
    SELECT up.period, up.signup,
           lag(up.period) OVER w AS prev, lead(up.period) OVER w AS next
    FROM up
    WINDOW w AS (PARTITION BY up.user_uuid ORDER BY up.period)
), per AS (
    SELECT s.period,
           count(*) AS active,
           count(*) FILTER (WHERE s.signup = s.period) AS new,
           count(*) FILTER (WHERE s.prev = (s.period - r.step)::date) AS retained,
           count(*) FILTER (WHERE s.signup < s.period AND s.prev IS DISTINCT FROM (s.period - r.step)::date)
               AS resurrected
    FROM seq s CROSS JOIN r
    GROUP BY s.period
), churn AS (
    SELECT (s.period + r.step)::date AS period, count(*) AS churned
    FROM seq s CROSS JOIN r
    WHERE s.next IS DISTINCT FROM (s.period + r.step)::date
    GROUP BY 1
), periods AS (
    SELECT p::date AS period_start, (p + r.step)::date - 1 AS period_end
    FROM r, generate_series(r.first_day::timestamp, r.last_day::timestamp, r.step) AS p
)
SELECT p.period_start, p.period_end,
       coalesce(x.new, 0)::bigint AS new,
       coalesce(x.retained, 0)::bigint AS retained,
       coalesce(x.resurrected, 0)::bigint AS resurrected,
       coalesce(c.churned, 0)::bigint AS churned,
       coalesce(x.active, 0)::bigint AS active_users,
       CASE WHEN c.churned > 0
            THEN round((coalesce(x.new, 0) + coalesce(x.resurrected, 0))::numeric / c.churned, 4)::float8 END
           AS quick_ratio,
       (p.period_end >= r.today) AS partial
FROM periods p CROSS JOIN r
LEFT JOIN per x ON x.period = p.period_start
LEFT JOIN churn c ON c.period = p.period_start
ORDER BY p.period_start
