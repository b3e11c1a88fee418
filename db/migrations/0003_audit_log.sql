-- The audit log of destructive actions taken from the dashboard (cancel, terminate):
-- who, when, which session, what it ran, and the outcome.
CREATE TABLE IF NOT EXISTS dashboard_audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    pid integer,
    target_user text,
    target_application text,
    target_database text,
    query text,
    outcome text NOT NULL,
    detail text
);
CREATE INDEX IF NOT EXISTS dashboard_audit_log_at_idx ON dashboard_audit_log (at);
