-- After a refresh that added days: clear the per-user state's dead rows (every added day updates them) and set the visibility maps, so reads stay index-only (a non-owner is skipped with a warning).
-- class: write
VACUUM (ANALYZE) public.engagement_users, public.engagement_periods, public.engagement_cells
