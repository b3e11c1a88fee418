-- Empty the two app tables (the confirmed "reset" action).
-- class: write
TRUNCATE public.activities, public.users
