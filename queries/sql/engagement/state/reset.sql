-- Forget a zone's engagement state, to count it again from `through` (the first day with posts).
-- class: write
WITH users_gone AS (
    DELETE FROM public.engagement_users WHERE tz = %(tz)s
), periods_gone AS (
    DELETE FROM public.engagement_periods WHERE tz = %(tz)s
), cells_gone AS (
    DELETE FROM public.engagement_cells WHERE tz = %(tz)s
)
UPDATE public.engagement_zones SET through = %(through)s, dirty = false, refreshed_at = now() WHERE tz = %(tz)s
