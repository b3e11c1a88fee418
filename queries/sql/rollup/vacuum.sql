-- After a refresh or rebuild: set the rollup's visibility map, so the next read is index-only (a non-owner is skipped with a warning).
-- class: write
VACUUM (ANALYZE) public.dashboard_rollup_quarter, public.dashboard_rollup_state
