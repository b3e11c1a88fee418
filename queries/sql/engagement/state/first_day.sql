-- The local day of the first sign-up or post in a report time zone (NULL: neither), where an engagement state starts.
-- class: read
-- Rows dated ±infinity have no day (the cast would fail): they are left out.
SELECT ((least((SELECT min(created_at) FROM users WHERE created_at > '-infinity' AND created_at < 'infinity'),
               (SELECT min(created_at) FROM activities WHERE created_at > '-infinity' AND created_at < 'infinity'))
         AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS first_day
