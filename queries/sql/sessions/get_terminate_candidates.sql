-- Client sessions of this database that "terminate all other sessions" would end (never ours).
-- class: read
SELECT a.pid, a.usename AS "user", a.application_name AS application, a.datname AS "database",
       a.query, a.backend_start
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
  AND a.pid <> ALL (%(own_pids)s::int[])  -- this process's own sessions (db.backends)
ORDER BY a.pid
