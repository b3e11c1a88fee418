-- Every user, oldest first: who the demo conversations are between (seed/messages.py).
-- class: read
SELECT uuid::text, handle, display_name, created_at FROM public.users ORDER BY created_at, uuid
