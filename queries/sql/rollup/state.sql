-- How far each table's growth rollup reaches (quarter hours before `through` are rolled up; NULL: none yet) and how many rows that is.
-- class: read
SELECT tbl, nullif(through, '-infinity') AS through, total, refreshed_at FROM public.dashboard_rollup_state ORDER BY tbl
