-- Active users (distinct authors of counted posts) per day, ISO week or month of the report time zone, over whole periods, zero-filled; per day also the trailing 7- and 28-day counts.
-- class: read
-- reads: users, activities
-- A post counts when its author has a users row and it is not dated before
-- that sign-up (engagement.excluded_posts counts the others). Periods are
-- local calendar periods: created_at (UTC wall-clock) is converted to the
-- zone, so 23- and 25-hour days and +05:45 or +10:30 offsets are exact; the
-- scan is bounded in UTC (a day wider each side, then cut by local date, so
-- an ambiguous or skipped local midnight loses nothing) so the created_at
-- index is used.
-- Trailing windows in one pass: a user active on `day` is in the windows
-- ending on day .. day + W - 1; counting only the ends not already covered by
-- the user's previous active day gives each window end each user once.
WITH r AS (
    SELECT p.first_day, p.last_day, %(today)s::date AS today,
           p.first_day - CASE WHEN %(unit)s = 'day' THEN 27 ELSE 0 END AS scan_from,
           (p.last_day + ('1 ' || %(unit)s)::interval)::date AS scan_to
    FROM (SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
                 date_trunc(%(unit)s, %(end_day)s::date::timestamp)::date AS last_day) AS p
), b AS (
    SELECT r.*,
           (r.scan_from::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day' AS lo_utc,
           (r.scan_to::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 day' AS hi_utc
    FROM r
), ud AS (
    SELECT DISTINCT x.user_uuid, x.day
    FROM b, LATERAL (
        SELECT a.user_uuid, ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day
        FROM activities a
        JOIN users u ON u.uuid = a.user_uuid AND a.created_at >= u.created_at
        WHERE a.created_at >= b.lo_utc AND a.created_at < b.hi_utc
    ) AS x
    WHERE x.day >= b.scan_from AND x.day < b.scan_to
), counts AS (
    SELECT date_trunc(%(unit)s, ud.day::timestamp)::date AS period_start, count(DISTINCT ud.user_uuid) AS n
    FROM ud, r
    WHERE ud.day >= r.first_day
    GROUP BY 1
), covered AS (
    SELECT ud.day, lag(ud.day) OVER (PARTITION BY ud.user_uuid ORDER BY ud.day) AS prev
    FROM ud
    WHERE %(unit)s = 'day'
), events AS (
    SELECT e.day, sum(e.w7) AS w7, sum(e.w28) AS w28
    FROM covered c
    CROSS JOIN LATERAL (VALUES
        (greatest(c.day, c.prev + 7), 1, 0), (c.day + 7, -1, 0),
        (greatest(c.day, c.prev + 28), 0, 1), (c.day + 28, 0, -1)
    ) AS e(day, w7, w28)
    GROUP BY e.day
), rolling AS (
    SELECT d::date AS day,
           sum(coalesce(e.w7, 0)) OVER (ORDER BY d) AS wau,
           sum(coalesce(e.w28, 0)) OVER (ORDER BY d) AS mau
    FROM r
    CROSS JOIN generate_series(r.scan_from::timestamp, r.last_day::timestamp, interval '1 day') AS d
    LEFT JOIN events e ON e.day = d::date
    WHERE %(unit)s = 'day'
), periods AS (
    SELECT p::date AS period_start, (p + ('1 ' || %(unit)s)::interval)::date - 1 AS period_end
    FROM r, generate_series(r.first_day::timestamp, r.last_day::timestamp, ('1 ' || %(unit)s)::interval) AS p
)
SELECT p.period_start, p.period_end,
       coalesce(c.n, 0)::bigint AS active_users,
       (p.period_end >= r.today) AS partial,
       w.wau::bigint AS wau,
       w.mau::bigint AS mau,
       CASE WHEN w.mau > 0 THEN round(coalesce(c.n, 0)::numeric / w.mau, 4)::float8 END AS stickiness
FROM periods p CROSS JOIN r
LEFT JOIN counts c ON c.period_start = p.period_start
LEFT JOIN rolling w ON w.day = p.period_start AND %(unit)s = 'day'
ORDER BY p.period_start
