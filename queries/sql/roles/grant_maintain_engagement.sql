-- Let a role keep the engagement state (its background refresh and rebuild); nothing else.
-- class: admin
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.engagement_zones, public.engagement_users,
    public.engagement_periods, public.engagement_cells TO {role}
