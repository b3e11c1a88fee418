-- Connection slots: max_connections, the slots reserved for superusers (and, on 16+, for pg_use_reserved_connections), and how many client backends use them.
-- class: read
-- reserved_connections exists from PostgreSQL 16 on: current_setting(..., true) is NULL before.
-- Only client backends take max_connections slots (autovacuum, WAL senders and workers have their own).
SELECT
    current_setting('max_connections')::int AS max_connections,
    current_setting('superuser_reserved_connections')::int AS superuser_reserved,
    coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
    current_setting('server_version_num')::int AS server_version_num,
    count(*) FILTER (WHERE a.backend_type = 'client backend') AS client_backends,
    count(*) FILTER (WHERE a.backend_type IS NULL) AS unknown_backends
FROM pg_stat_activity AS a
