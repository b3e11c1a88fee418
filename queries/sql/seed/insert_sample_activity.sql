-- Insert the sample activity by a handle unless that user already has it; expires 10 days after creation.
-- class: write
INSERT INTO public.activities (user_uuid, message, expires_at)
SELECT u.uuid, %(message)s, current_timestamp + interval '10 days'
FROM public.users u
WHERE u.handle = %(handle)s
  AND NOT EXISTS (SELECT 1 FROM public.activities a WHERE a.user_uuid = u.uuid AND a.message = %(message)s)
ORDER BY u.created_at
LIMIT 1
