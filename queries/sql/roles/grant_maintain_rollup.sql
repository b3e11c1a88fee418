-- Let a role keep the growth rollup moving (the background refresh: recount, advance the mark); nothing else.
-- class: admin
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.dashboard_rollup_state, public.dashboard_rollup_quarter TO {role}
