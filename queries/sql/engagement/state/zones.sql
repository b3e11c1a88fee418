-- The report time zones that have an engagement state, the most recently refreshed first.
-- class: read
SELECT tz, through, dirty, refreshed_at FROM public.engagement_zones ORDER BY refreshed_at DESC NULLS LAST, tz
