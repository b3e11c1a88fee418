-- Benchmark baseline: the original way to count posts, JSON-wrapped like the original lib/db.py query_object_json.
-- class: read
SELECT COALESCE(row_to_json(object_row), '{}'::json) FROM (
    SELECT count(*) AS count FROM activities
) object_row
