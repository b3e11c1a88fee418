-- The first calendar day in the report time zone with any message (NULL when there is none), where "all time" starts for the message metrics.
-- class: read
-- reads: message_groups
-- message_groups.started_at is the earliest sent_at of each conversation, so
-- its minimum is the first message; read from the started_at index.
SELECT (((SELECT min(started_at) FROM public.message_groups) AT TIME ZONE 'UTC') AT TIME ZONE %(tz)s)::date AS first_day
