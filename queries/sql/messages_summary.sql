-- The Growth page's messaging part in one statement: messages per calendar day in the report zone for the last 7 days (today partial), the same span a week earlier to the same local time, and whether any message data exists.
-- class: read
-- reads: message_counts, message_events
-- optional: as_of
-- One row per day, oldest first; `current` (the 7 days' sum), `previous` and
-- `has_data` repeat on every row.
-- Days: message_counts (messages per UTC quarter hour, migration 0005) summed
-- by local date, exactly as new_messages_per_day (every UTC offset in use is a
-- multiple of 15 minutes, so no quarter hour straddles a local midnight).
-- previous: same rule as the posts' delta, to the microsecond: it starts 7 days
-- before the first day and stops at the same local time a week ago (prev_end);
-- whole quarter hours before prev_end come from message_counts (the same one
-- index range scan as the days: 14 days of buckets), the partial quarter hour
-- holding prev_end from message_events through the sent_at index.
-- has_data: message_counts holds any row at all (false: nothing connected yet).
WITH b AS (
    SELECT local_now, local_now::date AS today
    FROM (SELECT coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s AS local_now) AS x
), w AS (
    SELECT b.today,
           ((b.today - 13)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS prev_start,
           ((b.local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS prev_end,
           ((b.today + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS cur_end
    FROM b
), buckets AS MATERIALIZED (
    SELECT ((m.bucket AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS day, m.bucket, m.messages
    FROM public.message_counts m, w
    WHERE m.bucket >= w.prev_start AND m.bucket < w.cur_end
), per_day AS (
    SELECT day, sum(messages) AS n FROM buckets GROUP BY day
), previous AS (
    SELECT (SELECT coalesce(sum(k.messages), 0) FROM buckets k
            WHERE k.bucket < date_bin('15 minutes', w.prev_end, timestamp '2000-01-01'))
         + (SELECT count(*) FROM public.message_events e
            WHERE e.sent_at >= date_bin('15 minutes', w.prev_end, timestamp '2000-01-01') AND e.sent_at < w.prev_end)
           AS n
    FROM w
)
SELECT w.today - 6 + i AS day, coalesce(p.n, 0)::bigint AS count, i = 6 AS partial,
       (sum(coalesce(p.n, 0)) OVER ())::bigint AS current, prev.n::bigint AS previous, EXISTS (SELECT 1 FROM public.message_counts) AS has_data
FROM w CROSS JOIN previous prev CROSS JOIN generate_series(0, 6) AS i
LEFT JOIN per_day p ON p.day = w.today - 6 + i
ORDER BY 1
