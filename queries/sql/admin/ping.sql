-- Whether the database answers at all (used to recover pages after an outage).
SELECT 1 AS ok
