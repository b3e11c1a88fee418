-- Whether any user has this handle (checked with the other inputs so every problem is reported at once).
-- class: read
SELECT EXISTS (SELECT 1 FROM public.users WHERE handle = %(handle)s) AS present
