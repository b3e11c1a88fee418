-- Let a role read the growth rollup (growth_summary and the rollup-backed totals read it).
-- class: admin
GRANT SELECT ON TABLE public.dashboard_rollup_state, public.dashboard_rollup_quarter TO {role}
