-- How many posts are on the platform (every row of activities).
-- class: read
-- reads: activities
SELECT count(*)::bigint AS count FROM activities
