"""Arrange rows in a test database (SQL here is test scaffolding, not app queries)."""

import signal
import uuid

from psycopg import sql


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


def add_message(conn, sent_at, group=None):
    """One message, kept the way the writers keep the tables (metrics/, lambdas/):
    message_groups.started_at = min(sent_at), message_counts = count per UTC quarter hour."""
    group = group or uuid.uuid4()
    conn.execute(
        "INSERT INTO message_events (message_uuid, message_group_uuid, sender_uuid, sent_at) VALUES (%s, %s, %s, %s)",
        (uuid.uuid4(), group, uuid.uuid4(), sent_at),
    )
    conn.execute(
        "INSERT INTO message_groups (message_group_uuid, started_at) VALUES (%s, %s) "
        "ON CONFLICT (message_group_uuid) DO UPDATE "
        "SET started_at = least(message_groups.started_at, excluded.started_at)",
        (group, sent_at),
    )
    conn.execute(
        "INSERT INTO message_counts (bucket, messages) "
        "VALUES (date_bin('15 minutes', %s::timestamp, timestamp '2000-01-01'), 1) "
        "ON CONFLICT (bucket) DO UPDATE SET messages = message_counts.messages + 1",
        (sent_at,),
    )
    return group


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
    node = getattr(node, "_tree", node)  # the AppTest itself: its element tree
    for child in getattr(node, "children", {}).values():
        if getattr(child, "type", None) == "popover" and child.proto.popover.label == label:
            found.append(child)
        found += popovers(child, label)
    return found


class BrokenCache:
    """A cache backend that fails on every call: reads must fall back to the database."""

    name = "broken"

    def get(self, key, ttl):
        raise ConnectionError("cache down")

    def set(self, key, entry, ttl):
        raise ConnectionError("cache down")


def ctrl_c_reaches_it() -> None:
    """preexec_fn for a child a test stops with SIGINT, as Ctrl-C would: a test run started in
    the background (`.ci/run &`) ignores SIGINT, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


TABLE_POPOVERS = ("users", "posts", "messages", "engagement-active", "engagement-retention", "engagement-lifecycle")


def tables_open(at):
    """An AppTest whose "Table and downloads" popovers are open: their contents are built
    only then (ui.tables.table_popover), as when a person clicks one."""
    for name in TABLE_POPOVERS:
        at.session_state[f"table-and-downloads-{name}"] = True
    return at


class AsgiClient:
    """Requests straight to an ASGI app through httpx's ASGI transport, cookies kept
    between them and redirects not followed: Starlette's TestClient without its
    deprecated httpx path."""

    def __init__(self, app, base_url: str = "http://testserver") -> None:
        import httpx

        self.app, self.base_url = app, base_url
        self.cookies = httpx.Cookies()

    def request(self, method: str, path: str, **kwargs):
        import asyncio

        import httpx

        async def go():
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url, cookies=self.cookies) as client:
                response = await client.request(method, path, **kwargs)
                self.cookies = httpx.Cookies(client.cookies)
                return response

        return asyncio.run(go())

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs):
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)


def rows_read_from(conn, table: str, name: str, **params) -> int:
    """Rows a catalog statement reads from `table` itself (EXPLAIN ANALYZE's actual rows of
    its scans of that table), with the report zone UTC and unnamed optional parameters NULL."""
    from queries import catalog

    query = catalog.get(name)
    values = {**dict.fromkeys(query.params), "tz": "UTC", **params}
    [(plan,)] = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + query.sql(), values).fetchall()
    nodes, rows = [plan[0]["Plan"]], 0
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node.get("Relation Name") == table:
            rows += round(node["Actual Rows"] * node["Actual Loops"])
    return rows
