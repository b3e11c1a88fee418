-- Whether migration 0007's engagement state tables exist.
-- class: read
SELECT to_regclass('public.engagement_zones') IS NOT NULL
    AND to_regclass('public.engagement_users') IS NOT NULL
    AND to_regclass('public.engagement_periods') IS NOT NULL
    AND to_regclass('public.engagement_cells') IS NOT NULL AS present
