-- A statement timeout for the rest of the current transaction only: a new connection warming a first page's statements (db.statements.plan_on_connect) gives up instead of counting a rollup left behind.
-- class: read
SELECT set_config('statement_timeout', %(timeout_ms)s::text, true) AS statement_timeout
