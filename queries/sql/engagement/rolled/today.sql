-- What the posts from today on add to the open day, ISO week and month of a zone's engagement state: per unit and sign-up cohort, today's authors the state has not seen in the open period, and per unit the posts not counted.
-- class: read
-- reads: users, activities
-- Only when the state reaches today (through = today, not dirty). Asked once
-- per page view; the rolled statements take these counts as parameters, so
-- today's authors are looked at once. Per unit u (open period P, ending on
-- open_end): an author counts when a counted post of theirs falls in
-- [today, open_end]; `n` of the unit's rows are those the state has not seen
-- in P (last_day before P), by cohort (the period of their sign-up);
-- `prev_n` of them active in P-1, `n_7` / `n_28` (day rows) not active in the
-- 6 / 27 days before today. The row with cohort NULL holds the unit's
-- orphan posts and posts dated before the author's sign-up from today to open_end.
WITH r AS (
    SELECT %(today)s::date AS today,
           greatest((date_trunc('week', %(today)s::date::timestamp) + interval '1 week')::date,
                    (date_trunc('month', %(today)s::date::timestamp) + interval '1 month')::date) AS horizon
), units AS (
    SELECT u.unit,
           date_trunc(u.unit, r.today::timestamp)::date AS open_p,
           (date_trunc(u.unit, r.today::timestamp) + ('1 ' || u.unit)::interval)::date - 1 AS open_end,
           (date_trunc(u.unit, r.today::timestamp) - ('1 ' || u.unit)::interval)::date AS prev_p
    FROM r, (VALUES ('day'), ('week'), ('month')) AS u(unit)
), posts AS (  -- per author and local day from today on: posts, and those before the sign-up
    SELECT x.user_uuid, x.day, x.n,
           coalesce(e.signup, ((u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date) AS signup,
           e.last_day,
           NOT coalesce(e.signup < r.today, false) AND u.created_at IS NULL AS orphan,
           CASE WHEN e.signup < r.today THEN 0
                ELSE (SELECT count(*) FROM unnest(x.times) AS t(at) WHERE t.at < u.created_at) END AS early
    FROM (
        SELECT a.user_uuid, ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day,
               count(*) AS n, array_agg(a.created_at) AS times
        FROM r, activities a
        WHERE a.created_at >= (r.today::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '3 hours'
          AND a.created_at < (r.horizon::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '3 hours'
          AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= r.today
          AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date < r.horizon
        GROUP BY 1, 2
    ) AS x
    CROSS JOIN r
    -- one primary-key lookup per author (a hash of the whole state costs more at scale)
    LEFT JOIN LATERAL (SELECT e.signup, e.last_day FROM public.engagement_users e
                       WHERE e.tz = %(tz)s AND e.user_uuid = x.user_uuid OFFSET 0) AS e ON true
    -- users is asked only when the state does not vouch for a sign-up before today
    -- (a change to users marks the state dirty, so its sign-up day stays true)
    LEFT JOIN LATERAL (SELECT u.created_at FROM users u
                       WHERE u.uuid = x.user_uuid AND (e.signup IS NULL OR e.signup >= r.today) OFFSET 0) AS u ON true
), authors AS (  -- per author: the first local day from today with a counted post
    SELECT p.user_uuid, min(p.signup) AS signup, min(p.last_day) AS last_day, min(p.day) AS first_day
    FROM posts p
    WHERE NOT p.orphan AND p.early < p.n
    GROUP BY p.user_uuid
)
SELECT k.unit, date_trunc(k.unit, a.signup::timestamp)::date AS cohort,
       count(*) AS n,
       count(*) FILTER (WHERE a.last_day >= k.prev_p) AS prev_n,
       count(*) FILTER (WHERE a.last_day IS NULL OR a.last_day < r.today - 6) AS n_7,
       count(*) FILTER (WHERE a.last_day IS NULL OR a.last_day < r.today - 27) AS n_28,
       0::bigint AS orphan_posts, 0::bigint AS early_posts
FROM r, units k
JOIN authors a ON a.first_day <= k.open_end AND (a.last_day IS NULL OR a.last_day < k.open_p)
GROUP BY k.unit, 2
UNION ALL
SELECT k.unit, NULL, 0, 0, 0, 0,
       coalesce(sum(p.n) FILTER (WHERE p.orphan), 0)::bigint,
       coalesce(sum(p.early) FILTER (WHERE NOT p.orphan), 0)::bigint
FROM units k LEFT JOIN posts p ON p.day <= k.open_end
GROUP BY k.unit
