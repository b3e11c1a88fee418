-- Where one table's rollup ends, read under the rollup lock (NULL: nothing rolled up yet).
-- class: read
SELECT nullif(through, '-infinity') AS through FROM public.dashboard_rollup_state WHERE tbl = %(tbl)s
