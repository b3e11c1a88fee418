-- Growth rollup, per-minute counts inside each quarter hour: the same-time-last-week
-- cut-off falls anywhere in its quarter hour, and what the quarter cannot answer is
-- counted live row by row, a cost that grew with the posting rate (at 10M posts over
-- 90 days, up to 580 rows per table at 7.5 minutes). With each quarter's 15 minute
-- counts, a cut-off costs one more rollup row and at most half a minute of rows.
--
-- minutes[i] is the number of rows with created_at in the quarter's (i-1)th minute
-- (date_part('minute', created_at)::int % 15 = i - 1); they always sum to n. The
-- array stays out of the key's index: sums over whole quarters remain index-only,
-- and only a cut-off's quarter is read from the table.
--
-- The rows of 0006 have no minutes: the rollup starts again empty, like 0006's.
-- Readers stay exact meanwhile (they count live what is not rolled up), and the
-- next refresh (the Growth page starts one, or `python -m db rollup`) rebuilds it.
-- The ALTER takes the table's strongest lock: behind a long refresh it would hold
-- every Growth read queued, so it gives up after 10 s instead (run it again).
SET LOCAL lock_timeout = '10s';
LOCK TABLE public.dashboard_rollup_state, public.dashboard_rollup_quarter IN ACCESS EXCLUSIVE MODE;
UPDATE public.dashboard_rollup_state SET through = '-infinity', total = 0;
TRUNCATE public.dashboard_rollup_quarter;
ALTER TABLE public.dashboard_rollup_quarter
    ADD COLUMN minutes bigint[] NOT NULL CHECK (cardinality(minutes) = 15);

-- The minute of its quarter hour (0-14) that `at` falls in; quarters start on :00, :15, :30, :45.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_minute(at timestamp) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT date_part('minute', at)::int % 15 $$;

-- A quarter's 15 minute counts from its non-empty minutes (0-14) and their counts.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_minutes_of(minutes int[], counts bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(coalesce(counts[array_position(minutes, i)], 0) ORDER BY i) FROM generate_series(0, 14) AS i
$$;

-- a + factor * b, element by element (two quarters' minute counts).
CREATE OR REPLACE FUNCTION public.dashboard_rollup_minutes_plus(a bigint[], b bigint[], factor bigint) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(x + factor * y ORDER BY i) FROM unnest(a, b) WITH ORDINALITY AS u(x, y, i)
$$;

-- Add `delta` to the quarter hour and minute of `at`, and to the total, if `at` is rolled up; callers hold the shared lock.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_add(p_tbl text, at timestamp, delta bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.dashboard_rollup_quarter AS r (tbl, bucket, n, minutes)
    SELECT p_tbl, date_bin('15 minutes', at, timestamp '2000-01-01'), delta,
           public.dashboard_rollup_minutes_of(ARRAY[public.dashboard_rollup_minute(at)], ARRAY[delta])
    FROM public.dashboard_rollup_state s
    WHERE s.tbl = p_tbl AND at < s.through
    ON CONFLICT (tbl, bucket) DO UPDATE
        SET n = r.n + EXCLUDED.n, minutes = public.dashboard_rollup_minutes_plus(r.minutes, EXCLUDED.minutes, 1);
    UPDATE public.dashboard_rollup_state SET total = total + delta WHERE tbl = p_tbl AND at < through;
$$;

-- Deleted rows, once per statement.
CREATE OR REPLACE FUNCTION public.dashboard_rollup_on_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('cruddur-dashboard:rollup:' || TG_TABLE_NAME, 0));
    WITH per_minute AS (
        SELECT date_bin('15 minutes', d.created_at, timestamp '2000-01-01') AS bucket,
               public.dashboard_rollup_minute(d.created_at) AS minute, count(*) AS n
        FROM gone d, public.dashboard_rollup_state s
        WHERE s.tbl = TG_TABLE_NAME AND d.created_at < s.through
        GROUP BY 1, 2
    ), g AS (
        SELECT bucket, sum(n) AS n, public.dashboard_rollup_minutes_of(array_agg(minute), array_agg(n)) AS minutes
        FROM per_minute GROUP BY bucket
    ), buckets AS (
        UPDATE public.dashboard_rollup_quarter r
        SET n = r.n - g.n, minutes = public.dashboard_rollup_minutes_plus(r.minutes, g.minutes, -1)
        FROM g WHERE r.tbl = TG_TABLE_NAME AND r.bucket = g.bucket
    )
    UPDATE public.dashboard_rollup_state s SET total = s.total - (SELECT sum(g.n) FROM g)
    WHERE s.tbl = TG_TABLE_NAME AND EXISTS (SELECT 1 FROM g);
    RETURN NULL;
END $$;
