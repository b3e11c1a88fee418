-- This database's cache hit ratios, transaction ID age against wraparound, and whether this server is a replica (with its replay lag).
-- class: read
-- 2^31 - 1 transactions is where wraparound would be; autovacuum forces a freeze at autovacuum_freeze_max_age.
SELECT
    (100 * sum(s.heap_blks_hit)::float8 / nullif(sum(s.heap_blks_hit) + sum(s.heap_blks_read), 0))::float8 AS table_hit_pct,
    (100 * sum(s.idx_blks_hit)::float8 / nullif(sum(s.idx_blks_hit) + sum(s.idx_blks_read), 0))::float8 AS index_hit_pct,
    (SELECT age(datfrozenxid) FROM pg_database WHERE datname = current_database()) AS xid_age,
    2147483647 AS xid_wraparound,
    current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,
    pg_is_in_recovery() AS is_replica,
    CASE WHEN pg_is_in_recovery() THEN
        CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END
    END::float8 AS replica_lag_seconds,
    pg_database_size(current_database()) AS database_bytes
FROM pg_statio_user_tables AS s
