-- The first calendar day in the report time zone with any user or post (NULL on an empty database), where "all time" starts.
-- class: read
-- reads: users, activities
-- Rows dated ±infinity have no day (the cast would fail): -infinity counts before every range.
SELECT ((least((SELECT min(created_at) FROM users WHERE created_at > '-infinity' AND created_at < 'infinity'),
               (SELECT min(created_at) FROM activities WHERE created_at > '-infinity' AND created_at < 'infinity'))
         AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS first_day
