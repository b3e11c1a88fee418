-- Whether this database has the growth rollup (migration 0004), and in the shape this code writes (0009's minute counts); without it the live queries answer.
-- class: read
SELECT to_regclass('public.dashboard_rollup_state') IS NOT NULL AS present,
       EXISTS (SELECT 1 FROM pg_attribute
               WHERE attrelid = to_regclass('public.dashboard_rollup_quarter') AND attname = 'minutes'
                 AND NOT attisdropped) AS current
