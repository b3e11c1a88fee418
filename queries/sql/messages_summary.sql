-- The Growth page's messaging part in one statement: messages per calendar day in the report zone for the last 7 days (today partial), the same span a week earlier to the same local time, and whether any message data exists.
-- class: read
-- plan: generic
-- reads: message_counts, message_events
-- optional: as_of
-- One row per day, oldest first; `current` (the 7 days' sum), `previous` and
-- `has_data` repeat on every row.
-- Days: message_counts (messages per UTC quarter hour, migration 0005) summed
-- over each local day's UTC range, equal to new_messages_per_day (every UTC
-- offset in use is a multiple of 15 minutes, so a local day is whole buckets).
-- previous: same rule as the posts' delta, to the microsecond: it starts 7 days
-- before the first day and stops at the same local time a week ago (prev_end);
-- whole quarter hours before prev_end come from message_counts, the partial
-- quarter hour holding prev_end from message_events through the sent_at index
-- (past the quarter's middle: the whole quarter, less its rest counted live, so
-- at most half a quarter hour of messages is counted).
-- has_data: message_counts holds any row at all (false: nothing connected yet).
-- A local day d starts at least(d's midnight as PostgreSQL reads it, just after d - 1's last
-- microsecond): PostgreSQL reads a repeated midnight (America/Havana, 1 November) as its later instant.
WITH b AS (
    SELECT local_now, local_now::date AS today
    FROM (SELECT coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s AS local_now) AS x
), w AS MATERIALIZED (
    SELECT b.today, x.prev_end,
           CASE WHEN x.prev_end - x.q > interval '7 minutes 30 seconds' THEN x.q + interval '15 minutes'
                ELSE x.q END AS prev_cut,
           least(((b.today - 13)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                 (((b.today - 13)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS prev_start
    FROM b CROSS JOIN LATERAL (
        SELECT y.prev_end, date_bin('15 minutes', y.prev_end, timestamp '2000-01-01') AS q
        FROM (SELECT ((b.local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS prev_end) AS y
    ) AS x
), per_day AS MATERIALIZED (
    -- Each local day is a UTC range of whole quarter hours: one index range sum per day.
    SELECT d.day,
           (SELECT coalesce(sum(m.messages), 0) FROM public.message_counts m
            WHERE m.bucket >= d.lo AND m.bucket < d.hi) AS n
    FROM (
        SELECT b.today - 6 + i AS day,
               least(((b.today - 6 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                     (((b.today - 6 + i)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS lo,
               least(((b.today - 5 + i)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC',
                     (((b.today - 5 + i)::timestamp - interval '1 microsecond') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' + interval '1 microsecond') AS hi
        FROM b, generate_series(0, 6) AS i
    ) AS d
), previous AS MATERIALIZED (
    SELECT (SELECT coalesce(sum(m.messages), 0) FROM public.message_counts m
            WHERE m.bucket >= w.prev_start AND m.bucket < w.prev_cut)
         -- Between prev_cut and prev_end: added when the cut is before the end, subtracted when after.
         + CASE WHEN w.prev_cut <= w.prev_end THEN 1 ELSE -1 END
           * (SELECT count(*) FROM public.message_events e
              WHERE e.sent_at >= least(w.prev_cut, w.prev_end) AND e.sent_at < greatest(w.prev_cut, w.prev_end))
           AS n
    FROM w
)
SELECT p.day, p.n::bigint AS count, p.day = w.today AS partial,
       (sum(p.n) OVER ())::bigint AS current, prev.n::bigint AS previous,
       EXISTS (SELECT 1 FROM public.message_counts) AS has_data
FROM per_day p CROSS JOIN previous prev CROSS JOIN w
ORDER BY p.day
