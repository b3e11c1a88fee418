-- Record a batch of messages once each (by message_uuid), move each conversation's start to its earliest message,
-- and add the new messages to their UTC quarter hours in message_counts.
-- The groups are updated from the rows this statement inserted, so message_groups.started_at stays exactly
-- min(sent_at) of message_events per group, and message_counts a count of message_events per quarter hour,
-- whatever order batches and shards arrive in. Rows are taken in
-- key order so that concurrent batches lock shared keys in the same order.
WITH batch AS (
    SELECT *
    FROM unnest(%(message_uuids)s::uuid[], %(group_uuids)s::uuid[], %(sender_uuids)s::uuid[], %(sent_ats)s::timestamp[])
        AS b (message_uuid, message_group_uuid, sender_uuid, sent_at)
    ORDER BY message_uuid
), added AS (
    INSERT INTO public.message_events (message_uuid, message_group_uuid, sender_uuid, sent_at)
    SELECT message_uuid, message_group_uuid, sender_uuid, sent_at FROM batch
    ON CONFLICT (message_uuid) DO NOTHING
    RETURNING message_group_uuid, sent_at
), started AS (
    INSERT INTO public.message_groups AS g (message_group_uuid, started_at)
    SELECT message_group_uuid, min(sent_at) FROM added GROUP BY message_group_uuid ORDER BY message_group_uuid
    ON CONFLICT (message_group_uuid) DO UPDATE SET started_at = EXCLUDED.started_at
    WHERE EXCLUDED.started_at < g.started_at
    RETURNING 1
), counted AS (
    INSERT INTO public.message_counts AS c (bucket, messages)
    SELECT date_bin('15 minutes', sent_at, timestamp '2000-01-01'), count(*) FROM added GROUP BY 1 ORDER BY 1
    ON CONFLICT (bucket) DO UPDATE SET messages = c.messages + EXCLUDED.messages
    RETURNING 1
)
SELECT (SELECT count(*) FROM added) AS added, (SELECT count(*) FROM started) AS groups_started_or_moved,
    (SELECT count(*) FROM counted) AS buckets
