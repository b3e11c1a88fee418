-- Growth rollup, second shape: UTC quarter hours and a running total, so an answer
-- costs the same whatever the length of history, the report time zone and the
-- posting rate.
--
-- Quarter hours: every UTC offset in use since the 1970s (Kolkata +05:30,
-- Kathmandu +05:45, Chatham +12:45, Lord Howe's half-hour DST) is a multiple of
-- 15 minutes, so every local midnight of any report zone is a bucket boundary:
-- no part-hours are counted live any more (Kathmandu used to cost three times
-- UTC), and the live tail after `through` is at most a quarter hour plus SETTLE.
--
-- total: dashboard_rollup_state.total is the number of rows with created_at
-- before `through`, so "all time" is one row plus the live tail instead of a sum
-- over one row per hour since the first post. It is kept exact by the same
-- writers as the buckets: the refresh (clear_range subtracts what it clears,
-- fill_range adds what it counts) and the triggers below (deletes, a changed
-- created_at, truncates). Only rows already rolled up touch it, so deleting a
-- recent post updates nothing here; deletes of older rows by concurrent
-- transactions wait for each other on the table's state row (inserts, the app's
-- common write, still fire nothing).
--
-- The hourly rows of 0004 cannot be split into quarters: the rollup starts again
-- empty. Readers stay exact meanwhile (they count live what is not rolled up),
-- and the next refresh (the Growth page starts one, or `python -m db rollup`)
-- rebuilds it in one pass over each table.
ALTER TABLE public.dashboard_rollup_state ADD COLUMN IF NOT EXISTS total bigint NOT NULL DEFAULT 0;

-- A few rows per quarter hour are added and the last day's are rewritten on every
-- refresh; autovacuum keeps the visibility map current (the refresh also vacuums).
CREATE TABLE IF NOT EXISTS public.dashboard_rollup_quarter (
    tbl text NOT NULL,
    bucket timestamp NOT NULL,  -- start of a UTC quarter hour (date_bin from 2000-01-01), like created_at
    n bigint NOT NULL,
    PRIMARY KEY (tbl, bucket) INCLUDE (n)
) WITH (autovacuum_vacuum_insert_threshold = 96, autovacuum_vacuum_insert_scale_factor = 0,
        autovacuum_vacuum_threshold = 96, autovacuum_vacuum_scale_factor = 0);

UPDATE public.dashboard_rollup_state SET through = '-infinity', total = 0;
DROP TABLE IF EXISTS public.dashboard_rollup_hourly;

-- Add `delta` to the quarter hour of `at`, and to the total, if `at` is rolled up; callers hold the shared lock.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_add(p_tbl text, at timestamp, delta bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.dashboard_rollup_quarter AS r (tbl, bucket, n)
    SELECT p_tbl, date_bin('15 minutes', at, timestamp '2000-01-01'), delta
    FROM public.dashboard_rollup_state s
    WHERE s.tbl = p_tbl AND at < s.through
    ON CONFLICT (tbl, bucket) DO UPDATE SET n = r.n + EXCLUDED.n;
    UPDATE public.dashboard_rollup_state SET total = total + delta WHERE tbl = p_tbl AND at < through;
$$;

-- Deleted rows, once per statement.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    WITH g AS (
        SELECT date_bin('15 minutes', d.created_at, timestamp '2000-01-01') AS bucket, count(*) AS n
        FROM gone d, public.dashboard_rollup_state s
        WHERE s.tbl = TG_TABLE_NAME AND d.created_at < s.through
        GROUP BY 1
    ), buckets AS (
        UPDATE public.dashboard_rollup_quarter r SET n = r.n - g.n
        FROM g WHERE r.tbl = TG_TABLE_NAME AND r.bucket = g.bucket
    )
    UPDATE public.dashboard_rollup_state s SET total = s.total - (SELECT sum(g.n) FROM g)
    WHERE s.tbl = TG_TABLE_NAME AND EXISTS (SELECT 1 FROM g);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    DELETE FROM public.dashboard_rollup_quarter WHERE tbl = TG_TABLE_NAME;
    UPDATE public.dashboard_rollup_state SET total = 0 WHERE tbl = TG_TABLE_NAME;
    RETURN NULL;
END $$;
