-- The first calendar day in the report time zone with any user or post (NULL on an empty database), where "all time" starts.
-- class: read
-- reads: users, activities
SELECT ((least((SELECT min(created_at) FROM users), (SELECT min(created_at) FROM activities))
         AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS first_day
