-- How many conversations have ever been started (the platform total for conversations started).
-- class: read
-- reads: message_groups
SELECT count(*)::bigint AS count FROM public.message_groups
