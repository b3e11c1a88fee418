-- Serialise migration runners on this database until the transaction ends.
-- class: admin
SELECT pg_advisory_xact_lock(hashtext('cruddur-dashboard:migrations'))
