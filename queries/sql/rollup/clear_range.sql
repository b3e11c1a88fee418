-- Forget the rolled-up quarter hours in [lo, hi) of one table before they are counted again; the total loses them too (lo NULL: everything, total 0).
-- class: write
WITH gone AS (
    DELETE FROM public.dashboard_rollup_quarter
    WHERE tbl = %(tbl)s AND bucket >= coalesce(%(lo)s::timestamp, '-infinity') AND bucket < %(hi)s
    RETURNING n
)
UPDATE public.dashboard_rollup_state
SET total = CASE WHEN %(lo)s::timestamp IS NULL THEN 0 ELSE total - (SELECT coalesce(sum(n), 0) FROM gone) END
WHERE tbl = %(tbl)s
