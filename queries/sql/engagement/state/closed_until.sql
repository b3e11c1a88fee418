-- The first local day of a report time zone not closed yet at a UTC instant (naive), a settle time after it ended.
-- class: read
-- PostgreSQL's zone data decides, as it decides where each row is counted: the
-- host's Python may have older rules for a zone (Africa/Casablanca, America/Vancouver
-- in 2026), and a day it closed early would never get its last posts.
SELECT (((%(utc_now)s::timestamp - %(settle)s::interval) AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS closed_until
