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
), days AS MATERIALIZED (  -- per author and local day from today on: posts, first and last
    SELECT a.user_uuid, ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day,
           count(*) AS n, min(a.created_at) AS first_at, max(a.created_at) AS last_at
    FROM r, activities a
    WHERE a.created_at >= (r.today::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' - interval '3 hours'
      AND a.created_at < (r.horizon::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '3 hours'
      AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date >= r.today
      AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date < r.horizon
    GROUP BY 1, 2
), known AS MATERIALIZED (
    -- the state's sign-up and last active day of those authors, from its primary key
    -- alone (migration 0008) in one pass: the index scan sorts the array and walks it
    -- with the authors in key order (many per index page), not one descent per author
    SELECT e.user_uuid, e.signup, e.last_day
    FROM public.engagement_users e
    WHERE e.tz = %(tz)s AND e.user_uuid = ANY (ARRAY(SELECT d.user_uuid FROM days d WHERE d.user_uuid IS NOT NULL))
), posts AS (  -- per author and local day: posts, and those dated before the author's sign-up
    SELECT d.user_uuid, d.day, d.n,
           coalesce(k.signup, ((u.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date) AS signup,
           k.last_day,
           NOT coalesce(k.signup < r.today, false) AND u.created_at IS NULL AS orphan,
           CASE WHEN k.signup < r.today OR u.created_at <= d.first_at THEN 0
                WHEN u.created_at > d.last_at THEN d.n
                -- signed up between two of that day's posts: count them (rare). The
                -- local day too: where clocks fell back over midnight (St John's until
                -- 2010), [first_at, created_at) can hold a post of the day before.
                ELSE (SELECT count(*) FROM activities a
                      WHERE a.created_at >= d.first_at AND a.created_at < u.created_at
                        AND a.user_uuid = d.user_uuid
                        AND ((a.created_at AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date = d.day) END AS early
    FROM days d
    CROSS JOIN r
    LEFT JOIN known k ON k.user_uuid = d.user_uuid
    -- users is asked only when the state does not vouch for a sign-up before today
    -- (a change to users marks the state dirty, so its sign-up day stays true)
    LEFT JOIN LATERAL (SELECT u.created_at FROM users u
                       WHERE u.uuid = d.user_uuid AND (k.signup IS NULL OR k.signup >= r.today) OFFSET 0) AS u ON true
), authors AS (  -- per author: the first local day from today with a counted post
    SELECT p.user_uuid, min(p.signup) AS signup, min(p.last_day) AS last_day, min(p.day) AS first_day
    FROM posts p
    WHERE NOT p.orphan AND p.early < p.n
    GROUP BY p.user_uuid
), kinds AS (  -- authors alike for every count below, counted once: a few hundred rows, not one per author
    SELECT a.signup, a.last_day, a.first_day, count(*) AS n
    FROM authors a
    GROUP BY 1, 2, 3
), excluded AS (  -- per local day: orphan posts, and posts dated before their author's sign-up
    SELECT p.day, sum(p.n) FILTER (WHERE p.orphan) AS orphan_posts,
           sum(p.early) FILTER (WHERE NOT p.orphan) AS early_posts
    FROM posts p
    GROUP BY p.day
)
SELECT k.unit, date_trunc(k.unit, a.signup::timestamp)::date AS cohort,
       sum(a.n)::bigint AS n,
       coalesce(sum(a.n) FILTER (WHERE a.last_day >= k.prev_p), 0)::bigint AS prev_n,
       coalesce(sum(a.n) FILTER (WHERE a.last_day IS NULL OR a.last_day < r.today - 6), 0)::bigint AS n_7,
       coalesce(sum(a.n) FILTER (WHERE a.last_day IS NULL OR a.last_day < r.today - 27), 0)::bigint AS n_28,
       0::bigint AS orphan_posts, 0::bigint AS early_posts
FROM r, units k
JOIN kinds a ON a.first_day <= k.open_end AND (a.last_day IS NULL OR a.last_day < k.open_p)
GROUP BY k.unit, 2
UNION ALL
SELECT k.unit, NULL, 0, 0, 0, 0,
       coalesce(sum(x.orphan_posts), 0)::bigint,
       coalesce(sum(x.early_posts), 0)::bigint
FROM units k LEFT JOIN excluded x ON x.day <= k.open_end
GROUP BY k.unit
