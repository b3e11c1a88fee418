-- Count one table's rows per UTC hour for created_at in [lo, hi) into the rollup (lo, hi on hour boundaries).
-- class: write
INSERT INTO public.dashboard_rollup_hourly (tbl, hour, n)
SELECT %(tbl)s, date_bin('1 hour', t.created_at, timestamp '2000-01-01'), count(*)
FROM {table} t
WHERE t.created_at >= coalesce(%(lo)s::timestamp, '-infinity') AND t.created_at < %(hi)s
GROUP BY 2
