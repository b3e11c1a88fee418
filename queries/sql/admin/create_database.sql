-- Create a database (the name is an identifier, filled by psycopg.sql.Identifier).
-- class: admin
CREATE DATABASE {name}
