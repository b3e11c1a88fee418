-- Let a role record messaging metrics in the three tables of migration 0005 (never delete or truncate them).
-- class: admin
-- The stream consumer's statement inserts events and upserts groups and counts; INSERT ... ON CONFLICT
-- DO UPDATE needs UPDATE, and SELECT on the columns its SET, WHERE and RETURNING read.
GRANT SELECT, INSERT, UPDATE ON TABLE public.message_events, public.message_groups, public.message_counts TO {role}
