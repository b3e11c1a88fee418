-- Record one applied migration.
INSERT INTO public.dashboard_migrations (version, name, checksum) VALUES (%(version)s, %(name)s, %(checksum)s)
