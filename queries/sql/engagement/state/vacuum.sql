-- After a refresh that added days: clear the per-user state's dead rows (every added day updates them) and set the visibility maps, so reads stay index-only (a non-owner is skipped with a warning).
-- class: write
-- INDEX_CLEANUP ON: below 2% of pages with dead rows VACUUM would skip the index
-- pass and leave those pages not all-visible (as for the growth rollup).
VACUUM (ANALYZE, INDEX_CLEANUP ON) public.engagement_users, public.engagement_periods, public.engagement_cells
