-- Give a raw extract its own statement timeout for the rest of its transaction (the pool's is sized for page queries).
-- class: read
SELECT set_config('statement_timeout', %(timeout_ms)s, true)
