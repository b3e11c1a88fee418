-- The local day of the first sign-up or post in a report time zone (NULL: neither), where an engagement state starts.
-- class: read
SELECT ((least((SELECT min(created_at) FROM users), (SELECT min(created_at) FROM activities))
         AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS first_day
