-- How many users are on the platform (every row of users).
-- reads: users
SELECT count(*)::bigint AS count FROM users
