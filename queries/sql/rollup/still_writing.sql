-- Whether any transaction older than the horizon is still in progress.
-- class: read
SELECT pg_snapshot_xmin(pg_current_snapshot()) < %(horizon)s::xid8 AS busy
