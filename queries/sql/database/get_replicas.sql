-- The replicas streaming from this server and how far behind each is (pg_stat_replication; details need pg_read_all_stats).
-- class: read
SELECT
    r.pid,
    r.application_name AS application,
    host(r.client_addr) AS client,
    r.state,
    r.sync_state,
    extract(epoch FROM r.write_lag)::float8 AS write_lag_seconds,
    extract(epoch FROM r.flush_lag)::float8 AS flush_lag_seconds,
    extract(epoch FROM r.replay_lag)::float8 AS replay_lag_seconds,
    CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn) END::bigint AS replay_behind_bytes
FROM pg_stat_replication AS r
ORDER BY r.application_name, r.pid
