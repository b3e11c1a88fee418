-- Benchmark baseline: plan this session's queries as if created_at had no index (the original schema had none).
-- class: admin
SELECT set_config('enable_indexscan', 'off', false), set_config('enable_indexonlyscan', 'off', false),
       set_config('enable_bitmapscan', 'off', false)
