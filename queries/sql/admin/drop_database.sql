-- Drop a database if it exists (servers before PostgreSQL 13: sessions are terminated first).
DROP DATABASE IF EXISTS {name}
