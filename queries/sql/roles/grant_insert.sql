-- Let a role add rows to the two app tables (never update or delete them).
-- class: admin
GRANT INSERT ON TABLE public.users, public.activities TO {role}
