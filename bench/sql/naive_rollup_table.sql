-- Benchmark reference only: the daily rollup table of the rejected trigger design.
-- class: admin
CREATE TABLE public.bench_naive_daily (day date PRIMARY KEY, n bigint NOT NULL)
