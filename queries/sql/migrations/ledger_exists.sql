-- Whether the migration ledger exists (a database our migrations never touched has none).
-- class: read
SELECT to_regclass('public.dashboard_migrations') IS NOT NULL AS present
