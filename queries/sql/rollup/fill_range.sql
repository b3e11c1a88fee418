-- Count one table's rows per UTC quarter hour, and per minute within it, for created_at in [lo, hi) into the rollup and its total (lo, hi on quarter-hour boundaries).
-- class: write
WITH per_minute AS (
    SELECT date_bin('15 minutes', t.created_at, timestamp '2000-01-01') AS bucket,
           public.dashboard_rollup_minute(t.created_at) AS minute, count(*) AS n
    FROM {table} t
    WHERE t.created_at >= coalesce(%(lo)s::timestamp, '-infinity') AND t.created_at < %(hi)s
    GROUP BY 1, 2
), counted AS (
    INSERT INTO public.dashboard_rollup_quarter (tbl, bucket, n, minutes)
    SELECT %(tbl)s, bucket, sum(n), public.dashboard_rollup_minutes_of(array_agg(minute), array_agg(n))
    FROM per_minute
    GROUP BY bucket
    RETURNING n
)
UPDATE public.dashboard_rollup_state SET total = total + (SELECT coalesce(sum(n), 0) FROM counted)
WHERE tbl = %(tbl)s
