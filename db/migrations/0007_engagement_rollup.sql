-- Engagement state per report time zone, for exact active users, retention and
-- lifecycle at any size (queries/engagement.py reads it, actions/engagement.py
-- keeps it). For every closed local day of a zone (days before `through`):
--
--   engagement_periods  the finished numbers of every closed day, ISO week and month
--   engagement_cells    retention cells (cohort, period) of every closed period
--   engagement_users    per user active in the last ~70 closed days: sign-up day, last
--                       active day, and the active day, week and month before it;
--                       enough to finish a period and to add today's live posts exactly
--
-- Readers take closed periods from here and count only today's posts live, so
-- answers are exact whatever the state holds. Inserts into activities fire
-- nothing (the app pays nothing, as for the growth rollup). Deletes, updates of
-- created_at or authors, truncates, and users inserted with a sign-up older than
-- a day mark every zone dirty (one statement-level UPDATE of a few rows); readers
-- then count live until the background refresh has rebuilt the zone.
CREATE TABLE IF NOT EXISTS public.engagement_zones (
    tz text PRIMARY KEY,
    through date,                          -- local days before this are counted below; NULL: not built yet
    dirty boolean NOT NULL DEFAULT false,  -- rows changed under the state: rebuild before use
    refreshed_at timestamptz
);

CREATE TABLE IF NOT EXISTS public.engagement_users (
    tz text NOT NULL,
    user_uuid uuid NOT NULL,
    signup date NOT NULL,      -- local day of users.created_at
    last_day date NOT NULL,    -- the last closed local day with a counted post
    prev_day date,             -- the active day before last_day
    prev_week date,            -- the active ISO week (its Monday) before last_day's week
    prev_month date,           -- the active month (its first day) before last_day's month
    PRIMARY KEY (tz, user_uuid)
) WITH (autovacuum_vacuum_scale_factor = 0.02);  -- every added day updates a day's worth of rows
CREATE INDEX IF NOT EXISTS engagement_users_last_day_idx
    ON public.engagement_users (tz, last_day) INCLUDE (signup, prev_day, prev_week, prev_month);

CREATE TABLE IF NOT EXISTS public.engagement_periods (
    tz text NOT NULL,
    unit text NOT NULL CHECK (unit IN ('day', 'week', 'month')),
    period_start date NOT NULL,
    active_users bigint NOT NULL,
    new bigint NOT NULL,
    retained bigint NOT NULL,
    resurrected bigint NOT NULL,
    churned bigint NOT NULL,
    wau bigint,           -- day only: users active in the 7 days ending that day
    mau bigint,           -- day only: ... in the 28 days ending that day
    signups bigint,       -- day only: users whose created_at falls on that day (cohort sizes)
    orphan_posts bigint,  -- day only: posts by no users row (not counted)
    early_posts bigint,   -- day only: posts dated before their author's sign-up (not counted)
    PRIMARY KEY (tz, unit, period_start)
);

CREATE TABLE IF NOT EXISTS public.engagement_cells (
    tz text NOT NULL,
    unit text NOT NULL CHECK (unit IN ('day', 'week', 'month')),
    period_start date NOT NULL,
    cohort_start date NOT NULL,
    retained bigint NOT NULL,
    PRIMARY KEY (tz, unit, period_start, cohort_start)
);

CREATE OR REPLACE FUNCTION public.engagement_mark_dirty() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.engagement_zones SET dirty = true WHERE NOT dirty;
    RETURN NULL;
END $$;

-- A sign-up dated in the past changes which older posts count (and the seed generator's loads).
CREATE OR REPLACE FUNCTION public.engagement_on_signups() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM added a WHERE a.created_at < (statement_timestamp() AT TIME ZONE 'UTC') - interval '1 day') THEN
        UPDATE public.engagement_zones SET dirty = true WHERE NOT dirty;
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER engagement_changed AFTER DELETE OR UPDATE OF created_at, user_uuid ON public.activities
    FOR EACH STATEMENT EXECUTE FUNCTION public.engagement_mark_dirty();
CREATE OR REPLACE TRIGGER engagement_truncated AFTER TRUNCATE ON public.activities
    FOR EACH STATEMENT EXECUTE FUNCTION public.engagement_mark_dirty();
CREATE OR REPLACE TRIGGER engagement_changed AFTER DELETE OR UPDATE OF created_at, uuid ON public.users
    FOR EACH STATEMENT EXECUTE FUNCTION public.engagement_mark_dirty();
CREATE OR REPLACE TRIGGER engagement_truncated AFTER TRUNCATE ON public.users
    FOR EACH STATEMENT EXECUTE FUNCTION public.engagement_mark_dirty();
CREATE OR REPLACE TRIGGER engagement_signups AFTER INSERT ON public.users
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.engagement_on_signups();
