-- Before a rollup refresh: the server's UTC time, and a transaction id of our own; every transaction that could be writing now has a smaller one.
-- class: write
SELECT statement_timestamp() AT TIME ZONE 'UTC' AS utc_now, pg_current_xact_id()::text AS horizon
