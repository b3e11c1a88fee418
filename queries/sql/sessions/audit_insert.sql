-- Record one cancel or terminate attempt in the dashboard's audit log.
-- class: write
INSERT INTO dashboard_audit_log (actor, action, pid, target_user, target_application, target_database, query, outcome, detail)
VALUES (%(actor)s, %(action)s, %(pid)s, %(target_user)s, %(target_application)s, %(target_database)s, %(query)s, %(outcome)s, %(detail)s)
