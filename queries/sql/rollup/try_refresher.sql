-- Become the one rollup refresher of this database (session lock), or learn that another one is at work.
-- class: write
SELECT pg_try_advisory_lock(hashtextextended('cruddur-dashboard:rollup-refresher', 0)) AS mine
