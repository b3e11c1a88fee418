-- Per table: sizes, live and dead rows, last (auto)vacuum and (auto)analyze, the autovacuum trigger, transaction ID age and an estimate of bloat.
-- class: read
-- pg_*_size() open the relation (AccessShareLock): behind a queued or held AccessExclusiveLock (ALTER
-- TABLE, LOCK TABLE, VACUUM FULL) they would wait, exactly when someone looks. Such a table's sizes
-- come from pg_class.relpages instead (as of its last VACUUM/ANALYZE), marked size_estimated.
-- Estimated bloat: the dead rows' share of the heap (pg_stat_user_tables counts), not a page-level
-- measurement; pgstattuple would read the whole table. The autovacuum trigger is the server-wide
-- autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples (per-table options aside).
WITH exclusive AS (
    SELECT l.relation
    FROM pg_locks AS l
    WHERE l.locktype = 'relation'
      AND l.mode = 'AccessExclusiveLock'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), tables AS (
    SELECT
        t.*,
        c.reltuples,
        c.relfrozenxid,
        c.reltoastrelid,
        current_setting('block_size')::bigint * c.relpages AS heap_estimate,
        current_setting('block_size')::bigint * coalesce((
            SELECT sum(ic.relpages) FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid
            WHERE i.indrelid = t.relid), 0) AS index_estimate,
        current_setting('block_size')::bigint * coalesce((
            SELECT tc.relpages FROM pg_class AS tc WHERE tc.oid = c.reltoastrelid), 0) AS toast_estimate,
        (t.relid IN (SELECT relation FROM exclusive)
         OR c.reltoastrelid IN (SELECT relation FROM exclusive)
         OR EXISTS (SELECT 1 FROM pg_index AS i
                    WHERE i.indrelid = t.relid AND i.indexrelid IN (SELECT relation FROM exclusive))) AS busy
    FROM pg_stat_user_tables AS t
    JOIN pg_class AS c ON c.oid = t.relid
), sized AS (
    SELECT
        tables.*,
        CASE WHEN busy THEN heap_estimate + index_estimate + toast_estimate
             ELSE pg_total_relation_size(relid) END AS total_bytes,
        CASE WHEN busy THEN heap_estimate ELSE pg_relation_size(relid) END AS table_bytes,
        CASE WHEN busy THEN index_estimate ELSE pg_indexes_size(relid) END AS index_bytes
    FROM tables
)
SELECT
    s.schemaname AS "schema",
    s.relname AS "table",
    s.total_bytes,
    s.table_bytes,
    s.index_bytes,
    s.busy AS size_estimated,
    s.n_live_tup AS live_rows,
    s.n_dead_tup AS dead_rows,
    (100 * s.n_dead_tup::float8 / nullif(s.n_live_tup + s.n_dead_tup, 0))::float8 AS dead_pct,
    (s.table_bytes * s.n_dead_tup::float8 / nullif(s.n_live_tup + s.n_dead_tup, 0))::bigint AS bloat_bytes,
    (current_setting('autovacuum_vacuum_threshold')::float8
        + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(s.reltuples, 0))::bigint AS autovacuum_trigger,
    s.last_vacuum,
    s.last_autovacuum,
    s.last_analyze,
    s.last_autoanalyze,
    s.seq_scan,
    s.idx_scan,
    greatest(age(s.relfrozenxid), age(x.relfrozenxid)) AS xid_age
FROM sized AS s
LEFT JOIN pg_class AS x ON x.oid = s.reltoastrelid
ORDER BY s.total_bytes DESC, s.schemaname, s.relname
