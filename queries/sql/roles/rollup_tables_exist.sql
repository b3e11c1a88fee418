-- Whether migration 0006's growth rollup tables (dashboard_rollup_state, dashboard_rollup_quarter) exist.
-- class: read
SELECT to_regclass('public.dashboard_rollup_state') IS NOT NULL
    AND to_regclass('public.dashboard_rollup_quarter') IS NOT NULL AS present
