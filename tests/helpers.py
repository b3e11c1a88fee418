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
        "INSERT INTO activities (user_uuid, message, created_at) "
        "VALUES (%(u)s, %(m)s, coalesce(%(c)s, current_timestamp)) RETURNING uuid",
        {"u": user_uuid, "m": message, "c": created_at},
    ).fetchone()[0]


class Downloads:
    """The bytes behind AppTest's download buttons. AppTest keeps its media file
    manager private to each run; this records the managers it creates (Streamlit's
    own classes, unchanged) so a test can read a static download or run a deferred
    one, exactly as the server would on a click."""

    def __init__(self, monkeypatch):
        from streamlit.testing.v1 import app_test

        managers = self.managers = []

        class Recorded(app_test.MediaFileManager):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                managers.append(self)

        monkeypatch.setattr(app_test, "MediaFileManager", Recorded)

    def bytes_of(self, button) -> bytes:
        manager = self.managers[-1]
        url = button.proto.url or manager.execute_deferred(button.proto.deferred_file_id)
        return manager._storage.get_file(url.rsplit("/", 1)[1]).content


def downloads_by_label(at) -> dict:
    return {b.label: b for b in at.download_button}


def popovers(node, label: str) -> list:
    """AppTest blocks of the popovers labelled `label` anywhere under `node`
    (AppTest has no accessor for popovers; their contents are in the tree as usual)."""
    found = []
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", None) == "popover" and child.proto.popover.label == label:
            found.append(child)
        found += popovers(child, label)
    return found
