-- Handles of existing users for the author picker, alphabetical, each once.
-- class: read
-- reads: users
SELECT DISTINCT handle FROM public.users ORDER BY handle LIMIT %(limit)s
