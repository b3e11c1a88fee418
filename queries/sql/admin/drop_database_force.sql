-- Drop a database if it exists, terminating its sessions (PostgreSQL 13+).
DROP DATABASE IF EXISTS {name} WITH (FORCE)
