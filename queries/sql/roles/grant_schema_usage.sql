-- Let a role see the objects of the public schema (privileges on each table still apply).
-- class: admin
GRANT USAGE ON SCHEMA public TO {role}
