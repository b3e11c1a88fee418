-- Bulk-load activities from the generator.
COPY public.activities (uuid, user_uuid, message, expires_at, created_at) FROM STDIN
