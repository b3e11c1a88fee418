-- Stop being the rollup refresher.
-- class: write
SELECT pg_advisory_unlock(hashtextextended('cruddur-dashboard:rollup-refresher', 0)) AS released
