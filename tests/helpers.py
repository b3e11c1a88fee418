"""Arrange rows in a test database (SQL here is test scaffolding, not app queries)."""


def add_user(conn, handle: str, created_at=None, **extra):
    """Insert a user (created_at: naive UTC wall-clock, like production)."""
    row = conn.execute(
        "INSERT INTO users (display_name, handle, email, cognito_user_id, created_at) "
        "VALUES (%(d)s, %(h)s, %(e)s, 'TEST', coalesce(%(c)s, current_timestamp)) RETURNING uuid",
        {"d": extra.get("display_name", handle.title()), "h": handle, "e": f"{handle}@test.com", "c": created_at},
    ).fetchone()
    return row[0]


def add_post(conn, user_uuid, created_at=None, message="hello"):
    return conn.execute(
        "INSERT INTO activities (user_uuid, message, created_at) VALUES (%(u)s, %(m)s, coalesce(%(c)s, current_timestamp)) RETURNING uuid",
        {"u": user_uuid, "m": message, "c": created_at},
    ).fetchone()[0]
