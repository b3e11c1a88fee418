-- When this database's statistics were last reset (index scans and dead rows count from then; NULL: never).
-- class: read
SELECT pg_stat_get_db_stat_reset_time(oid) AS stats_reset
FROM pg_database
WHERE datname = current_database()
