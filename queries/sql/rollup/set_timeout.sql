-- A statement timeout for the rest of a rollup recount's transaction, once its locks are held: a rebuild counts whole tables (the pool's timeout is sized for page queries).
-- class: write
SELECT set_config('statement_timeout', %(timeout_ms)s::text, true) AS statement_timeout
