-- Reset pg_stat_statements: every statement's counters start again from zero.
-- class: admin
SELECT {schema}.pg_stat_statements_reset() IS NOT NULL AS reset
