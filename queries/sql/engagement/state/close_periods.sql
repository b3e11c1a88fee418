-- Finish a closed local day of a zone's engagement state, and the ISO week and month that end on it: their active, new, retained, resurrected and churned users (the day also its WAU and MAU).
-- class: write
-- Right after add_day(day) nobody has a later last_day, so "active in P" is
-- last_day in P, "active in P-1 and not in P" is last_day in P-1, and the
-- active period before last_day's tells who was active in P-1 as well.
-- With `open` (the last day of a refresh) also the periods holding day + 1, as
-- far as the state sees them: readers add only today's authors to these rows
-- (a later day's row overwrites them; signups and excluded posts stay NULL).
INSERT INTO public.engagement_periods AS m
    (tz, unit, period_start, active_users, new, retained, resurrected, churned, wau, mau,
     signups, orphan_posts, early_posts)
SELECT %(tz)s, k.unit, k.p, n.active, n.new, n.retained, n.active - n.new - n.retained, n.churned,
       CASE WHEN k.unit = 'day' THEN n.wau END, CASE WHEN k.unit = 'day' THEN n.mau END,
       CASE WHEN k.unit = 'day' AND k.p_end = %(day)s::date THEN d.signups END,
       CASE WHEN k.unit = 'day' AND k.p_end = %(day)s::date THEN d.orphans END,
       CASE WHEN k.unit = 'day' AND k.p_end = %(day)s::date THEN d.early END
FROM (
    SELECT DISTINCT u.unit, date_trunc(u.unit, d.d::timestamp)::date AS p,
           (date_trunc(u.unit, d.d::timestamp) - ('1 ' || u.unit)::interval)::date AS pp,
           (date_trunc(u.unit, d.d::timestamp) + ('1 ' || u.unit)::interval)::date - 1 AS p_end
    FROM (VALUES ('day'), ('week'), ('month')) AS u(unit),
         (VALUES (%(day)s::date), (CASE WHEN %(open)s THEN %(day)s::date + 1 END)) AS d(d)
    WHERE d.d IS NOT NULL
      AND (d.d > %(day)s::date
           OR (date_trunc(u.unit, d.d::timestamp) + ('1 ' || u.unit)::interval)::date - 1 = %(day)s::date)
) AS k
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE e.last_day >= k.p) AS active,
           count(*) FILTER (WHERE e.last_day >= k.p AND date_trunc(k.unit, e.signup::timestamp)::date = k.p) AS new,
           count(*) FILTER (WHERE e.last_day >= k.p AND k.pp = CASE k.unit WHEN 'day' THEN e.prev_day
                                                                         WHEN 'week' THEN e.prev_week
                                                                         ELSE e.prev_month END) AS retained,
           count(*) FILTER (WHERE e.last_day >= k.pp AND e.last_day < k.p) AS churned,
           count(*) FILTER (WHERE e.last_day >= k.p_end - 6) AS wau,
           count(*) FILTER (WHERE e.last_day >= k.p_end - 27) AS mau
    FROM public.engagement_users e
    WHERE e.tz = %(tz)s AND e.last_day >= least(k.pp, k.p_end - 27)
) AS n
CROSS JOIN LATERAL (
    -- The day's sign-ups and the posts engagement does not count, for sizes and the page's note.
    SELECT (SELECT count(*) FROM users u WHERE u.created_at >= b.lo AND u.created_at < b.hi
              AND ((u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date = %(day)s::date) AS signups,
           count(*) FILTER (WHERE a.uuid IS NOT NULL AND u.uuid IS NULL) AS orphans,
           count(*) FILTER (WHERE a.created_at < u.created_at) AS early
    FROM (SELECT (%(day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day' AS lo,
                 ((%(day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 day' AS hi) AS b
    LEFT JOIN activities a ON a.created_at >= b.lo AND a.created_at < b.hi
         AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date = %(day)s::date
    LEFT JOIN users u ON u.uuid = a.user_uuid
    GROUP BY b.lo, b.hi
) AS d
ON CONFLICT (tz, unit, period_start) DO UPDATE SET
    active_users = EXCLUDED.active_users, new = EXCLUDED.new, retained = EXCLUDED.retained,
    resurrected = EXCLUDED.resurrected, churned = EXCLUDED.churned, wau = EXCLUDED.wau, mau = EXCLUDED.mau,
    signups = EXCLUDED.signups, orphan_posts = EXCLUDED.orphan_posts, early_posts = EXCLUDED.early_posts
