-- Bulk-load users from the generator (binary COPY rows built by seed/generate.py).
-- class: write
COPY public.users (uuid, display_name, handle, email, cognito_user_id, created_at) FROM STDIN (FORMAT BINARY)
