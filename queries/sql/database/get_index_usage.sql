-- Per index: size, scans since the statistics were reset, and what pghero compares to find duplicates (columns, method, expressions, predicate).
-- class: read
-- pg_relation_size() opens the index (AccessShareLock): behind an AccessExclusiveLock on it (REINDEX,
-- DROP INDEX) the size comes from pg_class.relpages instead, marked size_estimated. Nothing here waits.
WITH exclusive AS (
    SELECT l.relation
    FROM pg_locks AS l
    WHERE l.locktype = 'relation'
      AND l.mode = 'AccessExclusiveLock'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
)
SELECT
    u.schemaname AS "schema",
    u.relname AS "table",
    u.indexrelname AS "index",
    CASE WHEN u.indexrelid IN (SELECT relation FROM exclusive)
         THEN current_setting('block_size')::bigint * ic.relpages
         ELSE pg_relation_size(u.indexrelid) END AS size_bytes,
    u.indexrelid IN (SELECT relation FROM exclusive) AS size_estimated,
    u.idx_scan AS scans,
    i.indisunique AS is_unique,
    i.indisprimary AS is_primary,
    i.indisvalid AS is_valid,
    i.indisexclusion AS is_exclusion,
    i.indkey::text AS columns_key,
    -- The first indnkeyatts of indkey are key columns, the rest INCLUDE columns; each key column's
    -- operator class, collation and DESC/NULLS options make (e text_pattern_ops) no duplicate of (e).
    i.indnkeyatts AS key_columns,
    i.indclass::text AS opclasses,
    i.indcollation::text AS collations,
    i.indoption::text AS options,
    am.amname AS method,
    i.indexprs IS NOT NULL AS has_expressions,
    -- The stored node trees, compared as text as pghero does: pg_get_expr() would lock the table.
    -- PostgreSQL 15 stores each node's offset in the CREATE INDEX text (:location N; 18 writes -1), so
    -- the same expression written at another offset would differ: the offsets are dropped.
    regexp_replace(i.indexprs::text, ' :location -?[0-9]+', '', 'g') AS expressions,
    regexp_replace(i.indpred::text, ' :location -?[0-9]+', '', 'g') AS predicate,
    -- pg_get_indexdef() locks the table: not while an AccessExclusiveLock is held or queued on it.
    CASE WHEN u.relid NOT IN (SELECT relation FROM exclusive) THEN pg_get_indexdef(u.indexrelid) END AS definition
FROM pg_stat_user_indexes AS u
JOIN pg_index AS i ON i.indexrelid = u.indexrelid
JOIN pg_class AS ic ON ic.oid = u.indexrelid
JOIN pg_am AS am ON am.oid = ic.relam
ORDER BY u.schemaname, u.relname, u.indexrelname
