-- Whether migration 0005's messaging metrics tables (message_events, message_groups, message_counts) all exist.
-- class: read
SELECT to_regclass('public.message_events') IS NOT NULL
    AND to_regclass('public.message_groups') IS NOT NULL
    AND to_regclass('public.message_counts') IS NOT NULL AS present
