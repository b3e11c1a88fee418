-- Whether the database answers at all (used to recover pages after an outage).
-- class: read
SELECT 1 AS ok
