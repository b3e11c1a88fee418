-- Count one table's rows per UTC quarter hour for created_at in [lo, hi) into the rollup and its total (lo, hi on quarter-hour boundaries).
-- class: write
WITH counted AS (
    INSERT INTO public.dashboard_rollup_quarter (tbl, bucket, n)
    SELECT %(tbl)s, date_bin('15 minutes', t.created_at, timestamp '2000-01-01'), count(*)
    FROM {table} t
    WHERE t.created_at >= coalesce(%(lo)s::timestamp, '-infinity') AND t.created_at < %(hi)s
    GROUP BY 2
    RETURNING n
)
UPDATE public.dashboard_rollup_state SET total = total + (SELECT coalesce(sum(n), 0) FROM counted)
WHERE tbl = %(tbl)s
