-- Drop users of a zone's engagement state inactive for longer than any open period and its predecessor reach back (their return counts as resurrected either way).
-- class: write
DELETE FROM public.engagement_users WHERE tz = %(tz)s AND last_day < %(day)s::date - 70
