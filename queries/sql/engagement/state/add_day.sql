-- Count one closed local day into a zone's engagement state: each author of a counted post that day becomes active on it, remembering the active day, week and month before.
-- class: write
-- Counted as in engagement.active (a users row, not dated before the sign-up).
-- Days are added in order, so `day` is after every last_day already kept.
INSERT INTO public.engagement_users AS e (tz, user_uuid, signup, last_day)
SELECT %(tz)s, x.user_uuid, x.signup, %(day)s::date
FROM (
    SELECT DISTINCT a.user_uuid, ((u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS signup
    FROM activities a
    JOIN users u ON u.uuid = a.user_uuid AND a.created_at >= u.created_at
    WHERE a.created_at >= (%(day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '1 day'
      AND a.created_at < ((%(day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 day'
      AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date = %(day)s::date
) AS x
ON CONFLICT (tz, user_uuid) DO UPDATE SET
    signup = EXCLUDED.signup,
    prev_day = e.last_day,
    prev_week = CASE WHEN date_trunc('week', e.last_day::timestamp) < date_trunc('week', EXCLUDED.last_day::timestamp)
                     THEN date_trunc('week', e.last_day::timestamp)::date ELSE e.prev_week END,
    prev_month = CASE WHEN date_trunc('month', e.last_day::timestamp) < date_trunc('month', EXCLUDED.last_day::timestamp)
                      THEN date_trunc('month', e.last_day::timestamp)::date ELSE e.prev_month END,
    last_day = EXCLUDED.last_day
WHERE e.last_day < EXCLUDED.last_day
