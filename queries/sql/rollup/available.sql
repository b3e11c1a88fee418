-- Whether this database has the growth rollup (migration 0004); without it the live queries answer.
-- class: read
SELECT to_regclass('public.dashboard_rollup_state') IS NOT NULL AS present
