-- Whether a role of this name exists in the cluster.
-- class: read
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(name)s) AS present
