-- Create a group role (NOLOGIN: people and apps log in as their own users and are granted it).
-- class: admin
CREATE ROLE {name} NOLOGIN
