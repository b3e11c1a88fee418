-- Bulk-load users from the generator.
COPY public.users (uuid, display_name, handle, email, cognito_user_id, created_at) FROM STDIN
