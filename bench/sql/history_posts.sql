-- Benchmark data: %(n)s posts created over [start, stop), more of them recently, in one statement.
-- class: admin
-- Authors are not looked up (the growth answers count rows by created_at only), so this loads fast.
INSERT INTO public.activities (uuid, user_uuid, message, created_at)
SELECT gen_random_uuid(), gen_random_uuid(), 'bench post ' || i,
       %(start)s::timestamp + (%(stop)s::timestamp - %(start)s::timestamp) * sqrt(random())
FROM generate_series(1, %(n)s) AS i
