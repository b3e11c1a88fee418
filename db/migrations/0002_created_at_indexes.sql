-- Indexes that make the per-day growth queries read only the days they need.
-- On a large production table prefer running these by hand with
-- CREATE INDEX CONCURRENTLY (which cannot run inside a migration transaction);
-- IF NOT EXISTS then makes this migration a no-op.
CREATE INDEX IF NOT EXISTS users_created_at_idx ON public.users (created_at);
CREATE INDEX IF NOT EXISTS activities_created_at_idx ON public.activities (created_at);
CREATE INDEX IF NOT EXISTS users_handle_idx ON public.users (handle);
