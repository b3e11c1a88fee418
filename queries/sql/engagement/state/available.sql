-- Whether this database keeps engagement state (migration 0007); without it engagement is counted live.
-- class: read
SELECT to_regclass('public.engagement_zones') IS NOT NULL AS present
