-- One generic plan for the rest of the current transaction only: a `-- plan: generic` statement runs its connection's prepared statement on the plan made for it once (db.statements).
-- class: read
SELECT set_config('plan_cache_mode', 'force_generic_plan', true) AS plan_cache_mode
