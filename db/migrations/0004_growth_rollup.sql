-- Hourly rollup of new users and new posts, for exact growth answers at any size.
--
-- dashboard_rollup_hourly holds, per table and UTC hour, how many rows have
-- created_at in that hour, for every hour before the table's `through` mark in
-- dashboard_rollup_state. Readers add the live count of everything from
-- `through` on (and of part-hours) through the created_at index, so answers
-- are exact whatever `through` is. The dashboard advances `through` to the
-- last closed hour in the background (queries/rollup.py).
--
-- Inserts fire nothing: the main app's writes pay nothing for the rollup
-- (measured: bench/insert_overhead.py). Deletes, a changed created_at and
-- truncates adjust closed hours in the same transaction; the trigger functions
-- and the refresh serialise on an advisory lock per table (shared for
-- triggers, exclusive for the refresh). Rows inserted into hours already
-- rolled up - a late commit, a backfill - are caught by the refresh, which
-- recounts the last day before its mark each time, and by loaders that
-- recount what they load (seed/generate.py); see queries/rollup.py.
CREATE TABLE IF NOT EXISTS public.dashboard_rollup_state (
    tbl text PRIMARY KEY CHECK (tbl IN ('users', 'activities')),
    through timestamp NOT NULL DEFAULT '-infinity',  -- hours before this are rolled up (UTC wall-clock)
    refreshed_at timestamptz
);
INSERT INTO public.dashboard_rollup_state (tbl) VALUES ('users'), ('activities') ON CONFLICT DO NOTHING;

-- n is in the key's index so sums are index-only scans; a few rows a day are
-- added, so autovacuum is told to keep the visibility map current anyway.
CREATE TABLE IF NOT EXISTS public.dashboard_rollup_hourly (
    tbl text NOT NULL,
    hour timestamp NOT NULL,  -- start of a UTC hour, like created_at
    n bigint NOT NULL,
    PRIMARY KEY (tbl, hour) INCLUDE (n)
) WITH (autovacuum_vacuum_insert_threshold = 24, autovacuum_vacuum_insert_scale_factor = 0,
        autovacuum_vacuum_threshold = 24, autovacuum_vacuum_scale_factor = 0);

-- Add `delta` to the hour of `at` if that hour is rolled up; callers hold the shared lock.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_add(p_tbl text, at timestamp, delta bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.dashboard_rollup_hourly AS r (tbl, hour, n)
    SELECT p_tbl, date_bin('1 hour', at, timestamp '2000-01-01'), delta
    FROM public.dashboard_rollup_state s
    WHERE s.tbl = p_tbl AND at < s.through
    ON CONFLICT (tbl, hour) DO UPDATE SET n = r.n + EXCLUDED.n
$$;

-- A changed created_at (row level; fires only when an UPDATE sets created_at).
CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    PERFORM public.dashboard_rollup_add(TG_TABLE_NAME, OLD.created_at, -1);
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
