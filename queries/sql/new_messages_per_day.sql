-- New messages per calendar day in the report time zone for the last 7 days, zero-filled, oldest first; today is partial.
-- class: read
-- reads: message_counts
-- optional: as_of
-- Summed from message_counts, messages per UTC quarter hour (migration 0005).
-- Every UTC offset in use is a multiple of 15 minutes, so no quarter hour
-- straddles a local midnight: converting each bucket to the report zone and
-- summing by local date equals a count of message_events by local day, exactly.
-- The range is given in UTC on bucket so the primary key index is used.
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH bounds AS (
    SELECT (coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s)::date AS today
), days AS (
    SELECT b.today - 6 + i AS day FROM bounds b, generate_series(0, 6) AS i
), counts AS (
    SELECT ((m.bucket AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day, sum(m.messages) AS n
    FROM public.message_counts m, bounds b
    WHERE m.bucket >= least(((b.today - 6)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                            (((b.today - 6)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
      AND m.bucket < least(((b.today + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                           (((b.today + 1)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond')
    GROUP BY 1
)
SELECT d.day, coalesce(c.n, 0)::bigint AS count, d.day = b.today AS partial
FROM days d CROSS JOIN bounds b LEFT JOIN counts c ON c.day = d.day
ORDER BY d.day
