-- The statements of this database that cost the most, from pg_stat_statements: total and mean time (planning included), calls and rows.
-- class: read
-- {order_by} is one of total_ms, mean_ms, calls, rows (an allow-list in queries/database.py); {schema} is the
-- extension's schema, which need not be on the search_path.
-- Other users' statements show as <insufficient privilege> without pg_read_all_stats.
SELECT
    s.queryid::text AS queryid,
    r.rolname AS "user",
    s.calls,
    (s.total_exec_time + s.total_plan_time)::float8 AS total_ms,
    ((s.total_exec_time + s.total_plan_time) / nullif(s.calls, 0))::float8 AS mean_ms,
    s.rows,
    (s.rows::float8 / nullif(s.calls, 0))::float8 AS rows_per_call,
    (100 * s.shared_blks_hit::float8 / nullif(s.shared_blks_hit + s.shared_blks_read, 0))::float8 AS cache_hit_pct,
    s.query
FROM {schema}.pg_stat_statements AS s
LEFT JOIN pg_roles AS r ON r.oid = s.userid
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.calls > 0
ORDER BY {order_by} DESC, s.queryid
LIMIT %(limit)s
