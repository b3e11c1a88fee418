-- Create the dashboard's own migration ledger (not the app's schema_information).
-- class: admin
CREATE TABLE IF NOT EXISTS public.dashboard_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
