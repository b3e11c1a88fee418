-- Insert one sample user unless a user with that handle exists (makes the sample seed idempotent).
-- class: write
INSERT INTO public.users (display_name, handle, email, cognito_user_id)
SELECT %(display_name)s, %(handle)s, %(email)s, %(cognito_user_id)s
WHERE NOT EXISTS (SELECT 1 FROM public.users WHERE handle = %(handle)s)
