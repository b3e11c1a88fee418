-- Take the table's lock before the rollup's, in the order every writer takes them (no deadlock with TRUNCATE).
LOCK TABLE {table} IN ACCESS SHARE MODE
