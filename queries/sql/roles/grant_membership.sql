-- Make a role a member of another (e.g. pg_monitor, to see every session in pg_stat_activity).
-- class: admin
GRANT {group} TO {role}
