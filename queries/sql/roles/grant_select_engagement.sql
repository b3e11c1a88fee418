-- Let a role read the engagement state (the Engagement page reads closed periods from it).
-- class: admin
GRANT SELECT ON TABLE public.engagement_zones, public.engagement_users, public.engagement_periods,
    public.engagement_cells TO {role}
