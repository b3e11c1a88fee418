-- Let a role read the three messaging metrics tables (migration 0005).
-- class: admin
GRANT SELECT ON TABLE public.message_events, public.message_groups, public.message_counts TO {role}
