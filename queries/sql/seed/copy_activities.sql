-- Bulk-load activities from the generator (binary COPY rows built by seed/generate.py).
-- class: write
COPY public.activities (uuid, user_uuid, message, expires_at, created_at) FROM STDIN (FORMAT BINARY)
