-- Exclusive rollup lock for one table until the transaction ends; the rollup triggers take it shared.
-- class: write
SELECT pg_advisory_xact_lock(hashtextextended('cruddur-dashboard:rollup:' || %(tbl)s, 0))
