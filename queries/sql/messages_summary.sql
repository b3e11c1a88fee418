-- Messages in the last 7 calendar days and in the same span one week earlier (honest KPI delta), and whether any message data exists.
-- class: read
-- reads: message_counts, message_events
-- optional: as_of
-- Same rule as weekly_new_counts for posts, to the microsecond:
-- "current" is exactly the 7 daily buckets of new_messages_per_day (today
-- included), summed from message_counts. "previous" starts 7 days earlier and
-- stops at the same local time a week ago (prev_end). Whole quarter hours
-- before prev_end come from message_counts; the partial quarter hour that
-- holds prev_end, [date_bin(15 min, prev_end), prev_end), is counted from
-- message_events through the sent_at index, so the cut-off is not rounded to
-- the quarter hour. Local midnights are whole UTC quarter hours (every offset
-- in use is a multiple of 15 minutes), so the other edges need no correction.
-- has_data: message_counts holds any row at all (false: nothing connected yet).
WITH b AS (
    SELECT local_now, local_now::date AS today
    FROM (SELECT coalesce(%(as_of)s::timestamptz, now()) AT TIME ZONE %(tz)s AS local_now) AS x
), w AS (
    SELECT ((today - 13)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS prev_start,
           ((local_now - interval '7 days') AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS prev_end,
           ((today - 6)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS cur_start,
           ((today + 1)::timestamp AT TIME ZONE %(tz)s) AT TIME ZONE 'UTC' AS cur_end
    FROM b
), q AS (
    SELECT w.*, date_bin('15 minutes', w.prev_end, timestamp '2000-01-01') AS prev_cut FROM w
)
SELECT (SELECT coalesce(sum(m.messages), 0) FROM public.message_counts m
        WHERE m.bucket >= q.cur_start AND m.bucket < q.cur_end)::bigint AS current,
       ((SELECT coalesce(sum(m.messages), 0) FROM public.message_counts m
         WHERE m.bucket >= q.prev_start AND m.bucket < q.prev_cut)
        + (SELECT count(*) FROM public.message_events e
           WHERE e.sent_at >= q.prev_cut AND e.sent_at < q.prev_end))::bigint AS previous,
       EXISTS (SELECT 1 FROM public.message_counts) AS has_data
FROM q
