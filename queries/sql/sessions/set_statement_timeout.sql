-- A statement timeout for the rest of the current transaction only (the session list must stay cheap).
-- class: read
SELECT set_config('statement_timeout', %(timeout_ms)s::text, true) AS statement_timeout
