-- Hourly rollup of new users and new posts, for exact growth answers at any size.
--
-- dashboard_rollup_hourly holds, per table and UTC hour, how many rows have
-- created_at in that hour, for every hour before the table's `through` mark in
-- dashboard_rollup_state. Readers add the live count of everything from
-- `through` on (and of part-hours) through the created_at index, so answers
-- are exact whatever `through` is. The dashboard advances `through` to the
-- last closed hour in the background (queries/rollup.py).
--
-- Ordinary inserts (created_at = now) fire nothing: the insert trigger's WHEN
-- clause is false for them and is evaluated without calling any function.
-- What can change a closed hour - a backfilled row, a delete, a changed
-- created_at, a truncate - adjusts the rollup in the same transaction.
-- Trigger functions and the refresh serialise on an advisory lock per table
-- (shared for triggers, exclusive for the refresh).
CREATE TABLE IF NOT EXISTS public.dashboard_rollup_state (
    tbl text PRIMARY KEY CHECK (tbl IN ('users', 'activities')),
    through timestamp NOT NULL DEFAULT '-infinity',  -- hours before this are rolled up (UTC wall-clock)
    refreshed_at timestamptz
);
INSERT INTO public.dashboard_rollup_state (tbl) VALUES ('users'), ('activities') ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS public.dashboard_rollup_hourly (
    tbl text NOT NULL,
    hour timestamp NOT NULL,  -- start of a UTC hour, like created_at
    n bigint NOT NULL,
    PRIMARY KEY (tbl, hour)
);

-- Add `delta` to the hour of `at` if that hour is rolled up; callers hold the shared lock.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_add(p_tbl text, at timestamp, delta bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.dashboard_rollup_hourly AS r (tbl, hour, n)
    SELECT p_tbl, date_bin('1 hour', at, timestamp '2000-01-01'), delta
    FROM public.dashboard_rollup_state s
    WHERE s.tbl = p_tbl AND at < s.through
    ON CONFLICT (tbl, hour) DO UPDATE SET n = r.n + EXCLUDED.n
$$;

-- A backfilled row or a changed created_at (row level, rare).
CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    IF TG_OP = 'UPDATE' THEN
        PERFORM public.dashboard_rollup_add(TG_TABLE_NAME, OLD.created_at, -1);
    END IF;
    PERFORM public.dashboard_rollup_add(TG_TABLE_NAME, NEW.created_at, 1);
    RETURN NULL;
END $$;

-- Deleted rows, once per statement.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    UPDATE public.dashboard_rollup_hourly r SET n = r.n - g.n
    FROM (SELECT date_bin('1 hour', d.created_at, timestamp '2000-01-01') AS hour, count(*) AS n
          FROM gone d, public.dashboard_rollup_state s
          WHERE s.tbl = TG_TABLE_NAME AND d.created_at < s.through
          GROUP BY 1) g
    WHERE r.tbl = TG_TABLE_NAME AND r.hour = g.hour;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    DELETE FROM public.dashboard_rollup_hourly WHERE tbl = TG_TABLE_NAME;
    RETURN NULL;
END $$;

-- Fires only for a row older than 10 minutes when inserted (a backfill), never
-- for the app's own inserts; the seed generator recounts what it loads itself.
-- The 10 minutes are queries.rollup.SETTLE: the refresh never rolls up an hour
-- that ends later than 10 minutes before it started.
CREATE OR REPLACE TRIGGER dashboard_rollup_backfill AFTER INSERT ON public.users FOR EACH ROW
    WHEN (NEW.created_at < (clock_timestamp() AT TIME ZONE 'UTC') - interval '10 minutes'
          AND current_setting('cruddur.rollup_bulk_load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION public.dashboard_rollup_on_row();
CREATE OR REPLACE TRIGGER dashboard_rollup_backfill AFTER INSERT ON public.activities FOR EACH ROW
    WHEN (NEW.created_at < (clock_timestamp() AT TIME ZONE 'UTC') - interval '10 minutes'
          AND current_setting('cruddur.rollup_bulk_load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION public.dashboard_rollup_on_row();

CREATE OR REPLACE TRIGGER dashboard_rollup_moved AFTER UPDATE OF created_at ON public.users FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION public.dashboard_rollup_on_row();
CREATE OR REPLACE TRIGGER dashboard_rollup_moved AFTER UPDATE OF created_at ON public.activities FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at) EXECUTE FUNCTION public.dashboard_rollup_on_row();

CREATE OR REPLACE TRIGGER dashboard_rollup_deleted AFTER DELETE ON public.users
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.dashboard_rollup_on_delete();
CREATE OR REPLACE TRIGGER dashboard_rollup_deleted AFTER DELETE ON public.activities
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION public.dashboard_rollup_on_delete();

CREATE OR REPLACE TRIGGER dashboard_rollup_truncated AFTER TRUNCATE ON public.users
    FOR EACH STATEMENT EXECUTE FUNCTION public.dashboard_rollup_on_truncate();
CREATE OR REPLACE TRIGGER dashboard_rollup_truncated AFTER TRUNCATE ON public.activities
    FOR EACH STATEMENT EXECUTE FUNCTION public.dashboard_rollup_on_truncate();
