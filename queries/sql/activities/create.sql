-- Create an activity by the user with this handle (the earliest such user: handles are not unique in production); no row when the handle is unknown.
-- class: write
-- Times are UTC wall-clock like the rest of the table, whatever the session time zone.
INSERT INTO public.activities (user_uuid, message, created_at, expires_at)
SELECT u.uuid, %(message)s, now() AT TIME ZONE 'UTC', (now() AT TIME ZONE 'UTC') + %(ttl)s::interval
FROM public.users u
WHERE u.handle = %(handle)s
ORDER BY u.created_at, u.uuid
LIMIT 1
RETURNING uuid
