-- How many users are on the platform (every row of users). Counted live: the answer where the growth rollup is absent.
-- class: read
-- reads: users
SELECT count(*)::bigint AS count FROM users
