-- Exact row counts of the two app tables, for status lines and empty-database checks.
-- class: read
-- reads: users, activities
SELECT (SELECT count(*) FROM users)::bigint AS users, (SELECT count(*) FROM activities)::bigint AS activities
