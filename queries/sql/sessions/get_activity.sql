-- Sessions from pg_stat_activity with durations in seconds; blockers asked only for sessions waiting on a lock.
-- class: read
-- optional: all_databases
SELECT
    a.pid,
    a.usename AS "user",
    a.datname AS "database",
    a.application_name AS application,
    CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr)
         WHEN a.client_port = -1 THEN 'local socket' END AS client,
    a.backend_type,
    a.state,
    a.wait_event_type,
    a.wait_event,
    -- greatest(0, ...): now() is this transaction's start, a moment before other sessions' latest change.
    CASE WHEN a.state = 'active' THEN greatest(0, extract(epoch FROM now() - a.query_start))::float8 END AS query_seconds,
    greatest(0, extract(epoch FROM now() - a.xact_start))::float8 AS transaction_seconds,
    greatest(0, extract(epoch FROM now() - a.state_change))::float8 AS state_seconds,
    greatest(0, extract(epoch FROM now() - a.backend_start))::float8 AS connected_seconds,
    -- pg_blocking_pids takes the lock manager's locks: ask only for sessions waiting on one.
    CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END AS blocked_by,
    a.query,
    a.query = '<insufficient privilege>' AS hidden,
    a.backend_start,
    a.xact_start,
    -- Only an active session's query is running; for the others it is the last one, finished.
    a.query_start
FROM pg_stat_activity AS a
WHERE a.pid <> pg_backend_pid()
  AND (coalesce(%(all_databases)s, false) OR a.datname = current_database())
ORDER BY a.query_start NULLS LAST, a.pid
