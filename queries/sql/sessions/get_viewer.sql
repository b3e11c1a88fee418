-- Who the dashboard is connected as, and whether it may see and signal other users' sessions.
-- class: read
SELECT
    current_user AS "user",
    current_database() AS "database",
    pg_backend_pid() AS pid,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
    pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_all,
    pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signals_all
