-- Record one applied migration.
-- class: write
INSERT INTO public.dashboard_migrations (version, name, checksum) VALUES (%(version)s, %(name)s, %(checksum)s)
