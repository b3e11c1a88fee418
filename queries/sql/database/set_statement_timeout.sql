-- A statement timeout for the rest of the current transaction only: the session list's short one, a raw extract's or a rollup recount's long one, a new connection's readying (db.statements.plan_on_connect).
-- class: read
SELECT set_config('statement_timeout', %(timeout_ms)s::text, true) AS setting
