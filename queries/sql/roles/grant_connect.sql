-- Let a role connect to a database.
-- class: admin
GRANT CONNECT ON DATABASE {database} TO {role}
