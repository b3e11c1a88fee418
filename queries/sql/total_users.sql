-- How many users are on the platform: the growth rollup's running total plus the rows after its mark (live.total_users where there is no rollup).
-- class: read
-- reads: users
-- fallback: live.total_users
-- Equals count(*) of users: the total counts every row before `through`
-- (migration 0006), the rest is counted through the created_at index (the
-- always-true upper bound makes the planner expect a narrow range, so it uses it).
SELECT (s.total + (SELECT count(*) FROM public.users u WHERE u.created_at >= s.through
                               AND u.created_at <= 'infinity'))::bigint AS count
FROM public.dashboard_rollup_state s
WHERE s.tbl = 'users'
