-- Forget the rolled-up hours in [lo, hi) of one table, before they are counted again.
-- class: write
DELETE FROM public.dashboard_rollup_hourly WHERE tbl = %(tbl)s AND hour >= coalesce(%(lo)s::timestamp, '-infinity') AND hour < %(hi)s
