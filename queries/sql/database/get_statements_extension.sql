-- Whether pg_stat_statements can be read here: available on the server, installed (CREATE EXTENSION) in this database.
-- class: read
SELECT
    EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available,
    (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed_version,
    (SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_stat_statements') AS schema,
    current_setting('server_version_num')::int AS server_version_num
