-- Whether a database of this name exists on the server.
-- class: read
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %(name)s) AS present
