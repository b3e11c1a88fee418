-- How many messages have ever been sent (the platform total for the messages running total).
-- class: read
-- reads: message_counts
SELECT coalesce(sum(messages), 0)::bigint AS count FROM public.message_counts
