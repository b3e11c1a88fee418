-- Move a zone's engagement state on: local days before `through` are counted.
-- class: write
UPDATE public.engagement_zones SET through = %(through)s, refreshed_at = now() WHERE tz = %(tz)s
