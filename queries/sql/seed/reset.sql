-- Empty the two app tables (the confirmed "reset" action).
TRUNCATE public.activities, public.users
