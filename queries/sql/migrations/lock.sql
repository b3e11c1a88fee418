-- Serialise migration runners on this database until the transaction ends.
SELECT pg_advisory_xact_lock(hashtext('cruddur-dashboard:migrations'))
