-- Terminate one session (waiting up to wait_ms for it to end), if it is still the one confirmed and not ours.
-- class: admin
SELECT a.pid, pg_terminate_backend(a.pid, %(wait_ms)s::bigint) AS signalled
FROM pg_stat_activity AS a
WHERE a.pid = %(pid)s::int
  AND a.pid <> pg_backend_pid()
  AND a.backend_start IS NOT DISTINCT FROM %(backend_start)s::timestamptz
  AND a.pid <> ALL (%(own_pids)s::int[])  -- this process's own sessions (db.backends)
