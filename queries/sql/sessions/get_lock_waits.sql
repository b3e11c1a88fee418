-- For every session waiting on a lock: the lock it wants (type, mode, what it locks) and each holder with its mode.
-- class: read
-- pg_activity's get_waiting, plus the holder side: one row per (waiting session, blocking session).
-- A row-lock wait is a wait on the holder's transaction; the waiter's own granted tuple lock says which row.
WITH waiting AS (
    SELECT l.*
    FROM pg_locks AS l
    WHERE NOT l.granted
      AND l.pid <> pg_backend_pid()
), here AS (
    SELECT oid FROM pg_database WHERE datname = current_database()
)
SELECT
    w.pid,
    w.locktype,
    w.mode AS wanted_mode,
    -- pg_class answers only for this database (and shared catalogs, database 0).
    CASE WHEN c.oid IS NOT NULL THEN quote_ident(n.nspname) || '.' || quote_ident(c.relname)
         WHEN w.relation IS NOT NULL THEN 'relation ' || w.relation || ' of another database' END AS relation,
    c.relkind::text AS relkind,
    w.page,
    w.tuple,
    w.transactionid::text AS transactionid,
    w.virtualxid,
    -- Advisory keys: one bigint is (classid << 32 | objid) with objsubid 1; two int4 keys have objsubid 2.
    CASE WHEN w.locktype = 'advisory' AND w.objsubid = 1 THEN ((w.classid::bigint << 32) | w.objid::bigint)::text
         WHEN w.locktype = 'advisory' THEN w.classid || ', ' || w.objid END AS advisory_key,
    CASE WHEN rc.oid IS NOT NULL THEN quote_ident(rn.nspname) || '.' || quote_ident(rc.relname) END AS row_relation,
    CASE WHEN rl.relation IS NOT NULL THEN '(' || rl.page || ',' || rl.tuple || ')' END AS row_ctid,
    b.holder AS holder_pid,
    h.granted_modes AS holder_mode,
    h.waiting_modes AS holder_waiting_mode
FROM waiting AS w
LEFT JOIN pg_class AS c
       ON c.oid = w.relation AND w.database IN (0, (SELECT oid FROM here))
LEFT JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
    SELECT t.relation, t.page, t.tuple, t.database
    FROM pg_locks AS t
    WHERE t.pid = w.pid AND t.granted AND t.locktype = 'tuple'
    LIMIT 1
) AS rl ON w.locktype = 'transactionid'
LEFT JOIN pg_class AS rc ON rc.oid = rl.relation AND rl.database = (SELECT oid FROM here)
LEFT JOIN pg_namespace AS rn ON rn.oid = rc.relnamespace
LEFT JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(holder) ON true
LEFT JOIN LATERAL (
    -- The holder's locks on the very object waited for: granted ones, or (queued ahead) the one it waits for.
    SELECT string_agg(DISTINCT x.mode, ', ') FILTER (WHERE x.granted) AS granted_modes,
           string_agg(DISTINCT x.mode, ', ') FILTER (WHERE NOT x.granted) AS waiting_modes
    FROM pg_locks AS x
    WHERE x.pid = b.holder
      AND x.locktype = w.locktype
      AND x.database IS NOT DISTINCT FROM w.database
      AND x.relation IS NOT DISTINCT FROM w.relation
      AND x.page IS NOT DISTINCT FROM w.page
      AND x.tuple IS NOT DISTINCT FROM w.tuple
      AND x.virtualxid IS NOT DISTINCT FROM w.virtualxid
      AND x.transactionid IS NOT DISTINCT FROM w.transactionid
      AND x.classid IS NOT DISTINCT FROM w.classid
      AND x.objid IS NOT DISTINCT FROM w.objid
      AND x.objsubid IS NOT DISTINCT FROM w.objsubid
) AS h ON true
ORDER BY w.pid, b.holder
