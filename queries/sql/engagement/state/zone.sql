-- How far a report time zone's engagement state reaches: local days before `through` are counted in it (no row or NULL: not built; dirty: being rebuilt).
-- class: read
SELECT through, dirty, %(today)s::date AS asked_for FROM public.engagement_zones WHERE tz = %(tz)s
