-- Let a role read the two app tables.
-- class: admin
GRANT SELECT ON TABLE public.users, public.activities TO {role}
