-- The most recent entries of the dashboard's audit log.
-- class: read
SELECT at, actor, action, pid, target_user, target_application, target_database, query, outcome, detail
FROM dashboard_audit_log
ORDER BY at DESC, id DESC
LIMIT %(limit)s
