-- Move one table's rollup mark after its hours up to it were counted.
-- class: write
UPDATE public.dashboard_rollup_state SET through = %(through)s, refreshed_at = now() WHERE tbl = %(tbl)s
