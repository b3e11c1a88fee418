-- Benchmark baseline: new posts per UTC day for 7 days by grouping on the date, JSON-wrapped like lib/db.py query_array_json.
-- class: read
SELECT COALESCE(array_to_json(array_agg(row_to_json(array_row))), '[]'::json) FROM (
    SELECT d::date AS day, coalesce(c.count, 0) AS count, d::date = current_date AS partial
    FROM generate_series(current_date - 6, current_date, interval '1 day') AS d
    LEFT JOIN (SELECT created_at::date AS day, count(*) AS count FROM activities
               WHERE created_at::date >= current_date - 6 GROUP BY 1) c ON c.day = d::date
    ORDER BY 1
) array_row
