-- Drop a database if it exists, terminating its sessions (PostgreSQL 13+).
-- class: admin
DROP DATABASE IF EXISTS {name} WITH (FORCE)
