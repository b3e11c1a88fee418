-- Which PostgreSQL cluster this is: its system identifier, unique per initdb and kept by replicas and restarts.
-- class: read
SELECT system_identifier::text AS system_identifier FROM pg_control_system()
