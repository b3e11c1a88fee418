-- Terminate every session of a database except our own; the count of sessions signalled.
-- class: admin
SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
FROM pg_stat_activity
WHERE datname = %(name)s AND pid <> pg_backend_pid() AND backend_type = 'client backend'
