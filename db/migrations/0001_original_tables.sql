-- The two tables of Cruddur's main app, in production's shape, when absent.
-- gen_random_uuid() is built in (PostgreSQL 13+); production used uuid-ossp's
-- uuid_generate_v4(), which gives the same kind of value.
CREATE TABLE IF NOT EXISTS public.users (
    uuid UUID DEFAULT gen_random_uuid() PRIMARY KEY,
    display_name text NOT NULL,
    handle text NOT NULL,
    email text NOT NULL,
    cognito_user_id text NOT NULL,
    created_at TIMESTAMP DEFAULT current_timestamp NOT NULL
);

CREATE TABLE IF NOT EXISTS public.activities (
    uuid UUID DEFAULT gen_random_uuid() PRIMARY KEY,
    user_uuid UUID NOT NULL,
    message text NOT NULL,
    replies_count integer DEFAULT 0,
    reposts_count integer DEFAULT 0,
    likes_count integer DEFAULT 0,
    -- integer, as in production (a known mistake there: it should be uuid).
    reply_to_activity_uuid integer,
    expires_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT current_timestamp NOT NULL
);
