-- A lock timeout for the rest of the current transaction only: a statistics page, or a new connection planning (db.statements.plan_on_connect), never queues behind a lock.
-- class: read
SELECT set_config('lock_timeout', %(timeout_ms)s::text, true) AS setting
