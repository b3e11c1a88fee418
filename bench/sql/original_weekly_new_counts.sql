-- Benchmark baseline: new users and posts this week and the week before, JSON-wrapped like lib/db.py query_array_json.
-- class: read
SELECT COALESCE(array_to_json(array_agg(row_to_json(array_row))), '[]'::json) FROM (
    SELECT 'users' AS metric,
           count(*) FILTER (WHERE created_at::date >= current_date - 6) AS current,
           count(*) FILTER (WHERE created_at::date < current_date - 6 AND created_at < now() - interval '7 days') AS previous
    FROM users WHERE created_at::date >= current_date - 13
    UNION ALL
    SELECT 'posts',
           count(*) FILTER (WHERE created_at::date >= current_date - 6),
           count(*) FILTER (WHERE created_at::date < current_date - 6 AND created_at < now() - interval '7 days')
    FROM activities WHERE created_at::date >= current_date - 13
) array_row
