-- Take the table's lock before the rollup's, in the order every writer takes them (no deadlock with TRUNCATE).
-- class: write
LOCK TABLE {table} IN ACCESS SHARE MODE
