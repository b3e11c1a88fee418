-- How far each table's hourly rollup reaches (hours before `through` are rolled up; NULL: none yet).
-- class: read
SELECT tbl, nullif(through, '-infinity') AS through, refreshed_at FROM public.dashboard_rollup_state ORDER BY tbl
