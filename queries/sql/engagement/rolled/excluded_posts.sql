-- Posts engagement does not count (orphans, and posts dated before the author's sign-up) in whole periods of the report time zone, from the zone's engagement state for closed days plus what the posts from today on add (engagement.rolled.today, passed in as counts).
-- class: read
-- reads: users, activities
WITH r AS (
    SELECT date_trunc(%(unit)s, %(start_day)s::date::timestamp)::date AS first_day,
           (date_trunc(%(unit)s, %(end_day)s::date::timestamp) + ('1 ' || %(unit)s)::interval)::date AS after_day,
           %(today)s::date AS today
), kept AS (
    SELECT coalesce(sum(m.orphan_posts), 0) AS orphans, coalesce(sum(m.early_posts), 0) AS early
    FROM r, public.engagement_periods m
    WHERE m.tz = %(tz)s AND m.unit = 'day' AND m.period_start >= r.first_day AND m.period_start < least(r.after_day, r.today)
), live AS (  -- from today on (engagement.rolled.today), when the range reaches today
    SELECT CASE WHEN r.after_day > r.today THEN %(t_orphans)s::bigint ELSE 0 END AS orphans,
           CASE WHEN r.after_day > r.today THEN %(t_early)s::bigint ELSE 0 END AS early
    FROM r
)
SELECT (k.orphans + l.orphans)::bigint AS orphan_posts, (k.early + l.early)::bigint AS early_posts
FROM kept k, live l
