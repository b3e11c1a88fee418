"""Finding 1: no connection secret in any log line, CLI output, page text or error.

A table of URL and DSN forms, each carrying a distinctive secret, goes through
db.conninfo, the error scrubber, every command line that shows a connection,
the sidebar (anonymous and admin) and, for three forms, the real `make run`
launcher and a real browser page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from urllib.parse import quote

import pytest

from db import conninfo
from db.errors import safe_message, scrub
from db.settings import ConfigError
from tests.conftest import ROOT

# (id, secret, form): {sock} is the test server's socket directory, {db} the database.
FORMS = [
    ("userinfo", "Pw1-plain7", "postgresql://postgres:{secret}@/{db}?host={sock}"),
    ("query-string", "Pw2-query7", "postgresql://postgres@/{db}?host={sock}&password={secret}"),
    ("question-mark", "Pw3?quest7", "postgresql://postgres:{secret}@/{db}?host={sock}"),
    ("hash", "Pw4#hash77", "postgresql://postgres:{secret}@/{db}?host={sock}"),
    ("encoded-at", "Pw5@at7777", "postgresql://postgres:{enc}@/{db}?host={sock}"),
    ("encoded-percent", "Pw6%pct777", "postgresql://postgres:{enc}@/{db}?host={sock}"),
    ("non-ascii", "Pw7-séçrét-ü", "postgresql://postgres:{secret}@/{db}?host={sock}"),
    ("non-ascii-encoded", "Pw8-ключ-9", "postgresql://postgres:{enc}@/{db}?host={sock}"),
    ("postgres-scheme", "Pw9-scheme7", "postgres://postgres:{secret}@/{db}?host={sock}"),
    ("dsn", "Pw10-dsn777", "host={sock} dbname={db} user=postgres password={secret}"),
    ("dsn-quoted-space", "Pw11 with space", "host={sock} dbname={db} user=postgres password='{secret}'"),
    ("dsn-quote-escaped", "Pw12'quote7", "host={sock} dbname={db} user=postgres password='{dsn_escaped}'"),
    ("sslpassword", "Pw13-sslkey7", "postgresql://postgres@/{db}?host={sock}&sslpassword={secret}"),
    (
        "iam-token",
        "Pw14-X-Amz-Signature=abc123&X-Amz-Credential=AKIA/rds-db",
        "postgresql://postgres:{enc}@/{db}?host={sock}",
    ),
    ("unescaped-at", "Pw15@raw7", "postgresql://postgres:{secret}@/{db}?host={sock}"),
    ("unescaped-slash", "Pw16/raw7", "postgresql://postgres:{secret}@127.0.0.1:15432/{db}"),
]
IDS = [f[0] for f in FORMS]


def render(form: str, secret: str, sock: str = "/tmp/sock", db: str = "cruddur") -> str:
    return form.format(
        secret=secret,
        enc=quote(secret, safe=""),
        sock=sock,
        db=db,
        dsn_escaped=secret.replace("\\", "\\\\").replace("'", "\\'"),
    )


@pytest.mark.parametrize("name, secret, form", FORMS, ids=IDS)
def test_describe_and_scrub_never_show_the_secret(name, secret, form):
    url = render(form, secret)
    shown = conninfo.describe(url)
    assert secret not in shown and quote(secret, safe="") not in shown
    assert shown.startswith(("postgresql://", "(connection string"))
    message = f"could not connect with {url}: FATAL: something"
    assert secret not in scrub(message) or name == "dsn-quoted-space"  # a DSN in free text has no end
    assert secret in conninfo.secrets_in(url)


@pytest.mark.parametrize("name, secret, form", FORMS, ids=IDS)
def test_a_configured_secret_is_scrubbed_from_any_message(name, secret, form, monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", render(form, secret))
    if name == "unescaped-at":
        secret = "Pw15"  # what libpq sends as the password
    text = f"error near '{secret}' and {quote(secret, safe='')}"
    assert secret not in scrub(text) and quote(secret, safe="") not in scrub(text)
    assert secret not in safe_message(RuntimeError(text))


def test_describe_renders_the_parsed_fields():
    assert (
        conninfo.describe("postgresql://u:pw@DB.Example.com:5432/cruddur?sslmode=verify-full&application_name=x")
        == "postgresql://u@DB.Example.com:5432/cruddur?sslmode=verify-full"
    )
    assert (
        conninfo.describe("postgresql://postgres:@/cruddur?host=/tmp/x") == "postgresql://postgres@/cruddur?host=/tmp/x"
    )
    assert conninfo.describe("host=h port=6543 dbname=d user=u password=p") == "postgresql://u@h:6543/d"
    assert conninfo.describe("host=h password='unterminated") == conninfo.UNPARSEABLE
    assert conninfo.describe(None) == "(not set)"


def test_a_url_that_cannot_be_parsed_fails_without_quoting_it(monkeypatch):
    from db.settings import ConfigError, get_settings

    monkeypatch.setenv("CONNECTION_URL", "host=h password='Pw-unterminated-9")
    with pytest.raises(ConfigError) as caught:
        get_settings().require_url()
    assert "Pw-unterminated" not in str(caught.value) and caught.value.__cause__ is None


def test_endpoint_normalises_spellings():
    one = conninfo.endpoint("postgresql://u:p@DB.Example.COM.:05432/cruddur")
    assert one[1:] == (5432, "cruddur") and "db.example.com" in one[0]
    local = conninfo.endpoint("postgresql://u@localhost/cruddur")[0]
    assert "127.0.0.1" in local and "127.0.0.1" in conninfo.endpoint("host=127.0.0.1 dbname=cruddur")[0]
    assert (
        conninfo.endpoint("postgresql:///cruddur?host=/tmp/x/")[0]
        == conninfo.endpoint("host=/tmp//x dbname=cruddur")[0]
    )


# ---------------------------------------------------------------- through the command lines


def socket_dir(url: str) -> str:
    return conninfo.parse(url)["host"]


def cli(*argv: str, env: dict) -> subprocess.CompletedProcess:
    import os

    from tests.conftest import _ISOLATED

    base = {k: v for k, v in os.environ.items() if k not in _ISOLATED}
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("name, secret, form", FORMS, ids=IDS)
def test_no_command_line_prints_the_secret(name, secret, form, db_url, tmp_path, monkeypatch, capsys):
    from db.__main__ import main as db_main
    from queries.__main__ import main as queries_main
    from seed.__main__ import main as seed_main

    url = render(form, secret, sock=socket_dir(db_url), db=conninfo.parse(db_url)["dbname"])
    monkeypatch.setenv("CONNECTION_URL", url)
    codes = [
        db_main(["status"]),
        db_main(["create"]),
        queries_main(["run", "total_users"]),
        seed_main(["create-activity", "--handle", "x"]),
    ]
    monkeypatch.setenv("CONNECTION_URL", url + " nonsense='")
    monkeypatch.setenv("PGPASSWORD", secret)
    codes.append(db_main(["status"]))
    out, err = capsys.readouterr()
    assert secret not in out + err and quote(secret, safe="") not in out + err, out + err
    if not shutil.which("psql"):
        return
    # psql replaces the process, so `connect` runs as a command line of its own.
    done = cli(
        "db",
        "connect",
        "--",
        "-Atc",
        "SELECT 1",
        env={
            "CONNECTION_URL": url,
            "DASHBOARD_SECRETS_FILE": str(tmp_path / "none.toml"),
            "DASHBOARD_DATA_DIR": str(tmp_path / "d"),
        },
    )
    assert secret not in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr
    if name.startswith("unescaped"):  # libpq would read part of the password as host or database: refused
        assert codes[:4] == [2, 2, 2, 2] and "must be percent-encoded" in err, err
    else:
        assert codes[:3] == [0, 0, 0] and codes[4] == 2, err
        assert "postgresql://postgres@" in out
    if name == "sslpassword":  # psql would show it in `ps`: refused, plainly
        assert done.returncode == 2 and "sslpassword" in done.stderr
    elif not name.startswith("unescaped"):
        assert done.stdout.strip() == "1", done.stderr


# ---------------------------------------------------------------- on the page


@pytest.mark.parametrize("name, secret, form", FORMS[:6], ids=IDS[:6])
def test_the_sidebar_shows_no_connection_to_visitors_and_no_secret_to_admins(name, secret, form, db_url, monkeypatch):
    from streamlit.testing.v1 import AppTest

    url = render(form, secret, sock=socket_dir(db_url), db=conninfo.parse(db_url)["dbname"])
    monkeypatch.setenv("CONNECTION_URL", url)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30).run()
    captions = [c.value for c in at.sidebar.caption]
    # Visitors see nothing technical (the presenter's view); admins see the described connection.
    assert not any("Database (" in c or "postgresql://" in c for c in captions), captions
    at.session_state["admin_user"] = "admin"
    at.run()
    captions = [c.value for c in at.sidebar.caption]
    assert any("postgresql://postgres@" in c for c in captions), (
        captions,
        at.exception,
        [e.value for e in at.sidebar.error],
    )
    assert not any(secret in c or quote(secret, safe="") in c for c in captions)


def test_a_visitor_is_not_told_where_the_database_lives_when_it_fails(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CONNECTION_URL", "postgresql://nobody:pw-77x@127.0.0.1:9/nowhere?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    at = AppTest.from_file(str(ROOT / "pages" / "growth.py"), default_timeout=30).run()
    text = " ".join(e.value for e in at.error)
    assert "unavailable" in text and "127.0.0.1" not in text and "port 9" not in text and "pw-77x" not in text


def test_a_configuration_error_names_nothing_to_a_visitor(monkeypatch, tmp_path):
    """A missing CA bundle names the RDS host and a path: for admins and the log only."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CONNECTION_URL", "postgresql://u:pw-77x@prod-db.abc.eu-west-1.rds.amazonaws.com/cruddur")
    monkeypatch.setenv("PGSSLROOTCERT", str(tmp_path / "missing.pem"))
    at = AppTest.from_file(str(ROOT / "pages" / "growth.py"), default_timeout=30).run()
    text = " ".join(e.value for e in at.error)
    assert "not configured" in text and "signed-in admins" in text
    assert "rds.amazonaws.com" not in text and "missing.pem" not in text
    at.session_state["admin_user"] = "admin"
    assert "missing.pem" in " ".join(e.value for e in at.run().error)


def test_endpoints_pair_each_host_with_its_port_as_libpq_does():
    two = conninfo.endpoints("postgresql://u@/db?host=/tmp/a,127.0.0.1&port=1,05432")
    assert two == ((frozenset({"unix:/tmp/a"}), 1), (frozenset({"127.0.0.1"}), 5432))
    assert [port for _, port in conninfo.endpoints("host=/tmp/a,/tmp/b port=6000 dbname=x")] == [6000, 6000]
    assert conninfo.endpoints("postgresql://u@h1.invalid,h2.invalid:6001/db")[1][1] == 6001
    with pytest.raises(ConfigError, match="2 hosts but 3 ports"):
        conninfo.endpoints("host=/tmp/a,/tmp/b port=1,2,3 dbname=x")
