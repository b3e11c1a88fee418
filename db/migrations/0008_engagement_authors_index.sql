-- Engagement state: the primary key of engagement_users carries each user's sign-up
-- and last active day, so the page's one read of today's authors
-- (engagement.rolled.today) finds them in the index alone, in one pass with the
-- sorted authors, without visiting the table (10M posts, 17,565 authors: 29 -> 11 ms).
-- The refresh already rewrites last_day (an indexed column: no HOT updates either
-- way) and VACUUMs after, which keeps the scans index-only.
-- The ALTER takes the table's strongest lock: behind a long refresh or read it would
-- hold every Engagement read queued behind it, so it gives up after 10 s instead
-- (the migration fails whole and can be run again).
SET LOCAL lock_timeout = '10s';
ALTER TABLE public.engagement_users
    DROP CONSTRAINT engagement_users_pkey,
    ADD CONSTRAINT engagement_users_pkey PRIMARY KEY (tz, user_uuid) INCLUDE (signup, last_day);
