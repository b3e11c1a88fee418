-- Migrations already applied, oldest first.
-- class: read
SELECT version, name, checksum, applied_at FROM public.dashboard_migrations ORDER BY version
