-- How many posts are on the platform (every row of activities). Counted live: the answer where the growth rollup is absent.
-- class: read
-- reads: activities
SELECT count(*)::bigint AS count FROM activities
