-- Make a role a member of another (e.g. pg_monitor, to see every session in pg_stat_activity).
GRANT {group} TO {role}
