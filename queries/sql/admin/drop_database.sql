-- Drop a database if it exists (servers before PostgreSQL 13: sessions are terminated first).
-- class: admin
DROP DATABASE IF EXISTS {name}
