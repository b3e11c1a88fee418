-- Add the confirmed user unless a row with this cognito_user_id exists (production has no unique constraint).
INSERT INTO public.users (display_name, handle, email, cognito_user_id)
SELECT %(display_name)s, %(handle)s, %(email)s, %(cognito_user_id)s
WHERE NOT EXISTS (SELECT 1 FROM public.users WHERE cognito_user_id = %(cognito_user_id)s)
RETURNING uuid
