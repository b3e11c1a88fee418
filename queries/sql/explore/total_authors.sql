-- How many distinct users have ever posted (the platform total for active authors).
-- class: read
-- reads: activities
SELECT count(DISTINCT user_uuid)::bigint AS count FROM activities
