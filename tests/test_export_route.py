"""GET /export/raw (web/export_route.py) over HTTP, against the real app
(`streamlit run app.py`, as `make run` serves it) and a real database."""

import io
import json
import time
import zipfile
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import httpx
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from db.errors import FOR_ADMINS
from exports import files, raw
from exports.formats import BOM
from tests.browser import app_on_a_week_of_rows
from tests.spreadsheets import csv_rows
from web import export_route, signing

KEY = "route-test-signing-key-" + "x" * 24
BULK = 60_000  # old posts with long messages: a download of many megabytes
EXPORT_SESSIONS = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cruddur-dashboard:export'"


@pytest.fixture(scope="module")
def app(pg_server, templates, tmp_path_factory):
    def bulk(conn, users, now):  # old posts with long messages: a download of many megabytes
        conn.execute(
            "INSERT INTO activities (user_uuid, message, created_at) "
            "SELECT %s, repeat('m', 400), %s - g * interval '1 minute' FROM generate_series(1, %s) g",
            (users[0], now - timedelta(days=400), BULK),
        )

    log_dir = tmp_path_factory.mktemp("route")
    with app_on_a_week_of_rows(
        pg_server,
        templates["migrated"],
        log_dir,
        {"EXPORT_SIGNING_KEY": KEY, "POOL_TIMEOUT_MS": "2000"},
        prefix="route",
        message=lambda i: f'post {i}, "quoted"\n#{i}',
        more_rows=bulk,
    ) as (base, url):
        yield {
            "base": base,
            "db": url,
            "server": pg_server,
            "name": conninfo_to_dict(url)["dbname"],
            "log": log_dir / "streamlit.log",
        }


@pytest.fixture(autouse=True)
def same_key(monkeypatch):
    monkeypatch.setenv("EXPORT_SIGNING_KEY", KEY)


def today():
    return datetime.now(UTC).date()


def link(kind="activities", start=None, end=None, style="header", max_rows=None, tz="UTC", **kwargs):
    return export_route.raw_link(
        kind,
        tz=tz,
        start_day=start or today() - timedelta(days=6),
        end_day=end or today(),
        style=style,
        max_rows=max_rows,
        **kwargs,
    )


def get(app, path):
    return httpx.get(app["base"] + path, timeout=60)


def count(app, table, since: date | None = None):
    with psycopg.connect(app["db"]) as conn:
        query = sql.SQL("SELECT count(*) FROM {} WHERE created_at >= %s").format(sql.Identifier(table))
        return conn.execute(query, (since or date(1970, 1, 1),)).fetchone()[0]


def parse(body: bytes):
    """(provenance, rows by column name) of a `header` style download."""
    return csv_rows(body)


def test_a_signed_link_streams_every_row_of_the_range_as_csv(app):
    start = today() - timedelta(days=6)
    response = get(app, link(start=start))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="raw_activities_{start}_{today()}.csv"'
    assert response.headers["cache-control"] == "no-store"
    meta, rows = parse(response.content)
    expected = count(app, "activities", start)
    assert len(rows) == int(meta["rows"]) == expected > 0 and meta["truncated"] == "false"
    assert meta["dataset"] == "raw.activities" and meta["range"] == f"{start}..{today()}"
    assert {r["author_handle"] for r in rows} <= {f"person{i}" for i in range(10)}
    assert sum(1 for r in rows if r["message"].startswith("post ") and '"quoted"\n#' in r["message"]) == expected


def test_every_row_of_a_large_extract_arrives(app):
    response = get(app, link(start=date(2000, 1, 1)))
    meta, rows = parse(response.content)
    assert len(rows) == int(meta["rows"]) == count(app, "activities") == BULK + 60
    assert len(response.content) > 20 * 2**20


def test_sidecar_style_streams_a_zip_of_the_csv_and_its_json(app):
    start = today() - timedelta(days=29)
    response = get(app, link("users", start=start, style="sidecar"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    name = raw.raw_file_name("users", start, today())
    assert response.headers["content-disposition"] == f'attachment; filename="{name.removesuffix(".csv")}.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert zf.namelist() == [name, files.sidecar_name(name)]
        _, rows = csv_rows(zf.read(name))
        provenance = json.loads(zf.read(files.sidecar_name(name)))
    assert len(rows) == provenance["rows"] == count(app, "users", start) == 10
    assert rows[0]["email"].endswith("@test.com")


def test_a_cap_cuts_loudly(app):
    meta, rows = parse(get(app, link(start=date(2000, 1, 1), max_rows=5)).content)
    assert len(rows) == 5 and meta["rows"] == "5" and meta["truncated"] == "true"
    assert meta["total_rows"] == str(BULK + 60) and meta["max_rows"] == "5 (RAW_EXPORT_MAX_ROWS)"


def test_changed_expired_or_unsigned_links_are_refused_plainly(app):
    good = link()
    for bad in (
        good.replace("kind=activities", "kind=users"),
        good.replace("cap=0", "cap=1"),
        good.split("&sig=")[0],
        link(ttl_s=-1),
    ):
        response = get(app, bad)
        assert response.status_code == 403, bad
        assert response.headers["content-type"].startswith("text/plain")
        assert "Traceback" not in response.text and "link" in response.text
    assert "expired" in get(app, link(ttl_s=-1)).text
    assert get(app, export_route.PATH).status_code == 403


def test_signed_values_that_are_not_an_extract_are_bad_requests(app):
    fields = {
        "kind": "activities",
        "tz": "UTC",
        "start": "2026-03-01",
        "end": "2026-03-31",
        "style": "header",
        "cap": 0,
        "key": "",
    }
    for change in (
        {"kind": "passwords"},
        {"tz": "Mars/Olympus"},
        {"start": "2026-04-01"},
        {"end": "yesterday"},
        {"cap": -1},
        {"style": "xml"},
        {"key": "k" * 101},
        {"key": "   "},
    ):
        query = httpx.QueryParams(signing.sign(export_route.PURPOSE, {**fields, **change}))
        response = get(app, f"{export_route.PATH}?{query}")
        assert response.status_code == 400, change
        assert response.text.startswith("Bad download link:") and "Traceback" not in response.text


def test_head_answers_without_touching_the_database(app):
    response = httpx.head(app["base"] + link(), timeout=30)
    assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment;")


def test_a_database_that_refuses_connections_gives_a_plain_503(app):
    with psycopg.connect(app["server"], autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(app["name"])))
        try:
            response = get(app, link())  # an admin's link
            visitors = get(app, link(pseudonym_key="share"))
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(app["name"])))
    for answer in (response, visitors):
        assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/plain")
        assert answer.text.startswith("The database is unavailable right now.")
        assert "Traceback" not in answer.text and "password" not in answer.text.lower()
    assert app["name"] in response.text  # the admin reads the database's own words
    # A visitor's link (anyone it was shared with) names no server or database, as the pages do.
    assert visitors.text == "The database is unavailable right now. " + FOR_ADMINS + "\n"
    assert get(app, link()).status_code == 200  # and back once it accepts connections


def wait_for_export_sessions(app, n, timeout=20):
    deadline = time.monotonic() + timeout
    with psycopg.connect(app["db"], autocommit=True) as conn:
        while (found := conn.execute(EXPORT_SESSIONS).fetchone()[0]) != n and time.monotonic() < deadline:
            time.sleep(0.1)
    return found


def test_two_extracts_at_once_a_third_waits_and_abandoned_ones_release_their_connections(app):
    # Uncompressed, so that the stalled downloads cannot fit in the socket buffers.
    clients = [
        httpx.Client(base_url=app["base"], timeout=60, headers={"Accept-Encoding": "identity"}) for _ in range(2)
    ]
    streams, readers = ExitStack(), []  # kept: dropping a half-read stream makes httpx hang up
    try:
        for client in clients:  # two downloads that start and then stall: nobody reads on
            response = streams.enter_context(client.stream("GET", link(start=date(2000, 1, 1))))
            readers.append(response.iter_bytes())
            assert response.status_code == 200
            assert next(readers[-1]).startswith(BOM.encode() + b"# dataset=raw.activities")
        assert wait_for_export_sessions(app, 2) == 2
        busy = get(app, link("users"))
        assert busy.status_code == 503 and "already streaming" in busy.text and busy.headers["retry-after"]
    finally:  # hang up mid-download
        streams.close()
        for client in clients:
            client.close()
    assert wait_for_export_sessions(app, 0) == 0
    assert get(app, link("users")).status_code == 200
    log = app["log"].read_text()
    assert log.count("raw extract ABORTED") >= 2 and "Traceback" not in log


def test_formula_text_arrives_neutralised_and_the_file_says_so(app):
    day, evil = date(2001, 1, 1), '=HYPERLINK("http://evil","x")'
    with psycopg.connect(app["db"], autocommit=True) as conn:
        user = conn.execute(
            "INSERT INTO users (display_name, handle, email, cognito_user_id, created_at) "
            "VALUES (%s, '+cmd', '@SUM(1)', 'TEST', %s) RETURNING uuid",
            (evil, day),
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO activities (user_uuid, message, created_at) VALUES (%s, '-2+3', %s), (%s, %s, %s)",
            (user, day, user, "\tstarts with a tab", day),
        )
        try:
            meta, [row] = parse(get(app, link("users", start=day, end=day)).content)
            assert (row["display_name"], row["handle"], row["email"]) == ("'" + evil, "'+cmd", "'@SUM(1)")
            assert meta["csv_formulas"] == "neutralised"
            response = get(app, link("activities", start=day, end=day, style="sidecar"))
            name = raw.raw_file_name("activities", day, day)
            with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
                _, rows = csv_rows(zf.read(name))
                provenance = json.loads(zf.read(files.sidecar_name(name)))
        finally:
            conn.execute("DELETE FROM activities WHERE user_uuid = %s", (user,))
            conn.execute("DELETE FROM users WHERE uuid = %s", (user,))
    assert sorted(r["message"] for r in rows) == ["'\tstarts with a tab", "'-2+3"]
    assert {r["author_handle"] for r in rows} == {"'+cmd"} and provenance["csv_formulas"] == "neutralised"


def test_a_pseudonymised_link_streams_no_personal_data_and_says_which_columns_changed(app):
    start = date(2000, 1, 1)
    with psycopg.connect(app["db"]) as conn:
        emails = {r[0] for r in conn.execute("SELECT email FROM users")}
    meta, rows = parse(get(app, link("users", start=start, pseudonym_key="study 1")).content)
    assert len(rows) == count(app, "users") and meta["personal_data"] == "pseudonymised"
    assert meta["pseudonymised"] == "email;cognito_user_id" and meta["pseudonym_key"] == "study 1"
    assert not {r["email"] for r in rows} & emails and all(len(r["email"]) == 32 for r in rows)
    again = parse(get(app, link("users", start=start, pseudonym_key="study 1")).content)[1]
    assert [r["email"] for r in again] == [r["email"] for r in rows]  # stable within the key
    full = parse(get(app, link("users", start=start)).content)
    assert full[0]["personal_data"] == "full" and {r["email"] for r in full[1]} == emails


def test_a_broken_setting_is_named_on_an_admins_link_only():
    from db.settings import ConfigError

    broken = ConfigError("RAW_EXPORT_CONCURRENCY must be a whole number, got 'abc'")
    visitor = export_route._failure(broken, admin=False)
    admin = export_route._failure(broken, admin=True)
    assert visitor.status_code == admin.status_code == 500
    assert visitor.body.decode() == f"The dashboard is not configured. {FOR_ADMINS}\n"
    assert admin.body.decode() == f"The dashboard is not configured. {broken}\n"
