-- Take a role out of another (the reader was once a member of pg_monitor, more than the pages need).
-- class: admin
REVOKE {group} FROM {role}
