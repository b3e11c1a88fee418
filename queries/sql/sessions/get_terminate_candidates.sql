-- Client sessions of this database that "terminate all other sessions" would end (never ours).
SELECT a.pid, a.usename AS "user", a.application_name AS application, a.datname AS "database",
       a.query, a.backend_start
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
  AND a.application_name NOT LIKE %(own_application)s
ORDER BY a.pid
