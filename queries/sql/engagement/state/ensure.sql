-- Start keeping an engagement state for a report time zone (idempotent).
-- class: write
INSERT INTO public.engagement_zones (tz) VALUES (%(tz)s) ON CONFLICT (tz) DO NOTHING
