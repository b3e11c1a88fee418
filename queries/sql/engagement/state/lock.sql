-- Become the one refresher of a zone's engagement state (session lock), or learn that another one is at work.
-- class: write
SELECT pg_try_advisory_lock(hashtextextended('cruddur-dashboard:engagement:' || %(tz)s, 0)) AS mine
