-- How many users are on the platform (every row of users).
-- class: read
-- reads: users
SELECT count(*)::bigint AS count FROM users
