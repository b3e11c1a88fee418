-- Let a role read the two app tables.
GRANT SELECT ON TABLE public.users, public.activities TO {role}
