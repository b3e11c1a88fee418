-- Stop being the refresher of a zone's engagement state.
-- class: write
SELECT pg_advisory_unlock(hashtextextended('cruddur-dashboard:engagement:' || %(tz)s, 0)) AS released
