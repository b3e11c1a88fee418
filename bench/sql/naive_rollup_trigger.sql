-- Benchmark reference only: attach the rejected per-statement rollup trigger to activities.
-- class: admin
CREATE TRIGGER bench_naive_rollup AFTER INSERT ON public.activities
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION public.bench_naive_rollup()
