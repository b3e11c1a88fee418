-- Let a role connect to a database.
GRANT CONNECT ON DATABASE {database} TO {role}
