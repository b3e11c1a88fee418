-- One activity with its author's handle, as stored (the page shows what the database holds).
-- class: read
-- reads: users, activities
SELECT a.uuid::text AS uuid, u.handle AS author, a.message, a.created_at, a.expires_at
FROM public.activities a
LEFT JOIN public.users u ON u.uuid = a.user_uuid
WHERE a.uuid = %(uuid)s
