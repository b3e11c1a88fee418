-- Benchmark workload (pgbench script): one post as the main app inserts it, created_at by default.
-- class: write
INSERT INTO activities (user_uuid, message, expires_at) VALUES (gen_random_uuid(), 'pgbench: a single-row insert', now() + interval '1 day');
