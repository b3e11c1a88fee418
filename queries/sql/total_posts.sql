-- How many posts are on the platform: the growth rollup's running total plus the rows after its mark (live.total_posts where there is no rollup).
-- class: read
-- reads: activities
-- fallback: live.total_posts
-- Equals count(*) of activities: the total counts every row before `through`
-- (migration 0006), the rest is counted through the created_at index (the
-- always-true upper bound makes the planner expect a narrow range, so it uses it).
SELECT (s.total + (SELECT count(*) FROM public.activities a WHERE a.created_at >= s.through
                               AND a.created_at <= 'infinity'))::bigint AS count
FROM public.dashboard_rollup_state s
WHERE s.tbl = 'activities'
