-- How many activities rows were created in the range (local dates in the report time zone), the size of a raw extract.
-- class: read
-- reads: activities
SELECT count(*)::bigint AS count
FROM activities
WHERE created_at >= (%(start_day)s::date::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
  AND created_at < ((%(end_day)s::date + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC'
