-- Benchmark data: %(n)s users signed up over [start, stop), more of them recently (growth), in one statement.
-- class: admin
-- sqrt(random()) puts the density of sign-ups on a line rising towards `stop`.
INSERT INTO public.users (uuid, display_name, handle, email, cognito_user_id, created_at)
SELECT gen_random_uuid(), 'Bench user ' || i, 'bench' || i, 'bench' || i || '@example.invalid', 'bench-' || i,
       %(start)s::timestamp + (%(stop)s::timestamp - %(start)s::timestamp) * sqrt(random())
FROM generate_series(1, %(n)s) AS i
