-- Benchmark reference only: the rejected design, a statement trigger function that adds inserted rows to today's rollup row.
-- class: admin
CREATE OR REPLACE FUNCTION public.bench_naive_rollup() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
    INSERT INTO public.bench_naive_daily AS r (day, n)
    SELECT created_at::date, count(*) FROM added GROUP BY 1
    ON CONFLICT (day) DO UPDATE SET n = r.n + EXCLUDED.n;
    RETURN NULL;
END'
