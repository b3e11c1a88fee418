-- Benchmark baseline: weekly new, retained, resurrected and churned users, the usual self-join of weekly activity.
-- class: read
WITH weekly AS (
    SELECT DISTINCT a.user_uuid, date_trunc('week', (a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS week,
           date_trunc('week', (u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS signup
    FROM activities a JOIN users u ON u.uuid = a.user_uuid
), weeks AS (
    SELECT w::date AS week FROM generate_series(date_trunc('week', %(start_day)s::date), %(end_day)s::date, interval '1 week') AS w
)
SELECT k.week,
       count(*) FILTER (WHERE cur.signup = k.week) AS new,
       count(*) FILTER (WHERE prev.user_uuid IS NOT NULL) AS retained,
       count(*) FILTER (WHERE prev.user_uuid IS NULL AND cur.signup < k.week) AS resurrected,
       (SELECT count(*) FROM weekly p WHERE p.week = k.week - 7
          AND NOT EXISTS (SELECT 1 FROM weekly n WHERE n.user_uuid = p.user_uuid AND n.week = k.week)) AS churned
FROM weeks k
LEFT JOIN weekly cur ON cur.week = k.week
LEFT JOIN weekly prev ON prev.user_uuid = cur.user_uuid AND prev.week = k.week - 7
GROUP BY k.week
ORDER BY k.week
