"""queries/database.py against the real test server: top statements with their call counts, dead
rows after deletes, unused and duplicate indexes, connection slots, the reset, the CLI twins, and
what a role without pg_read_all_stats is told.

Long because each view's figures are checked against real sessions, tables and indexes, and the
CLI twins' flags and the reset's production guard each need their own case."""

from __future__ import annotations

import uuid

import pandas as pd
import psycopg
import pytest

from actions import sessions as session_actions
from queries import database
from tests.background import Background, wait_until


@pytest.fixture
def statements(db):
    """pg_stat_statements installed in the test database (the harness preloads it)."""
    db.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return db


def test_a_run_of_statements_shows_with_its_call_count(statements, db_url):
    marker = f"marker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        for i in range(7):
            conn.execute(f"SELECT count(*) AS {marker} FROM users WHERE handle = %s", [f"h{i}"])
    top = database.top_statements("calls", 500)
    assert top.ok and top.note is None
    row = top.frame[top.frame["query"].str.contains(marker)]
    assert len(row) == 1, top.frame["query"].tolist()
    row = row.iloc[0]
    assert row["calls"] == 7 and row["rows"] == 7
    assert "$1" in row["query"] and "'h1'" not in row["query"]  # normalised
    assert row["mean_ms"] == pytest.approx(row["total_ms"] / 7)
    for by, column in database.ORDERS.items():
        frame = database.top_statements(by, 50).frame
        assert frame[column].is_monotonic_decreasing, by


def test_without_the_extension_the_page_says_how_to_enable_it(db):
    top = database.top_statements()
    assert top.status == "not_installed" and "CREATE EXTENSION" in top.message
    assert "shared_preload_libraries" in database.ENABLE_HELP and "parameter group" in database.ENABLE_HELP
    with pytest.raises(ValueError, match="order by one of"):
        database.top_statements("1; DROP TABLE users")


def test_reset_is_admin_only_guarded_and_audited(statements, db_url, monkeypatch, tmp_path):
    with pytest.raises(PermissionError):
        session_actions.reset_statements(actor="", schema="public")
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "audit.jsonl"))
    refused = session_actions.reset_statements(actor="admin", schema="public")
    assert refused.outcome == "refused" and "ALLOW_PROD_WRITES" in refused.message
    assert "reset pg_stat_statements" in (tmp_path / "audit.jsonl").read_text()
    monkeypatch.setenv("APP_ENV", "dev")
    monkeypatch.delenv("PROD_CONNECTION_URL")
    statements.execute("SELECT 'before reset'")
    done = session_actions.reset_statements(actor="admin", schema="public")
    assert done.ok, done.message
    assert statements.execute("SELECT action, outcome FROM dashboard_audit_log").fetchall() == [
        ("reset pg_stat_statements", "done")
    ]
    assert not database.top_statements("calls", 500).frame["query"].str.contains("before reset").any()


def test_dead_rows_after_deletes_and_an_unused_index(db):
    db.execute("CREATE TABLE churn (id int PRIMARY KEY, v int)")
    db.execute("CREATE INDEX churn_v_never_used ON churn (v)")
    db.execute("CREATE INDEX churn_v_again ON churn (v)")  # the same columns: a duplicate
    db.execute("CREATE INDEX churn_v_id ON churn (v, id)")  # starts with v: covers both above
    db.execute("INSERT INTO churn SELECT g, g FROM generate_series(1, 2000) AS g")
    db.execute("DELETE FROM churn WHERE id <= 1500")
    db.execute("SELECT pg_stat_force_next_flush()")  # statistics reach the shared view at the next flush
    db.execute("SELECT 1")

    def probe():
        h = database.health()
        t = h.tables.set_index("table")
        return h if "churn" in t.index and t.loc["churn", "dead_rows"] == 1500 else None

    h = wait_until(probe)
    churn = h.tables.set_index("table").loc["churn"]
    assert churn["live_rows"] == 500 and churn["dead_pct"] == pytest.approx(75.0)
    assert churn["vacuum_due"]  # 1500 dead > 50 + 0.2 × rows
    assert churn["bloat_bytes"] == pytest.approx(churn["table_bytes"] * 0.75, rel=0.01)
    assert pd.isna(churn["last_vacuum"]) and churn["xid_age"] >= 0
    idx = h.indexes.set_index("index")
    assert idx.loc["churn_v_never_used", "unused"] and idx.loc["churn_v_never_used", "scans"] == 0
    assert not idx.loc["churn_pkey", "unused"]  # unique: enforces a constraint, never "unused"
    assert idx.loc["churn_v_never_used", "covered_by"] in ("churn_v_again", "churn_v_id")  # the first found
    assert idx.loc["churn_v_again", "covered_by"] == "churn_v_id"
    assert idx.loc["churn_v_id", "covered_by"] == ""
    assert set(h.unused_indexes()["index"]) >= {"churn_v_never_used", "churn_v_again", "churn_v_id"}
    # Scanned once, it is no longer unused.
    db.execute("SET enable_seqscan = off")
    db.execute("SELECT v FROM churn WHERE v = 1600")
    db.execute("SELECT pg_stat_force_next_flush()")
    db.execute("SELECT 1")

    def scanned_once():
        i = database.health().indexes
        return [i] if (i["scans"] > 0).any() else None

    (scanned,) = wait_until(scanned_once)
    assert not scanned[scanned["scans"] > 0]["unused"].any()
    left, before_freeze, warn = h.wraparound()
    assert left > 2_000_000_000 and before_freeze > 0 and not warn


def test_identical_indexes_report_one_of_the_two():
    frame = pd.DataFrame(
        [
            {
                "schema": "s",
                "table": "t",
                "index": name,
                "size_bytes": 1,
                "scans": 1,
                "is_unique": False,
                "is_primary": False,
                "is_valid": True,
                "columns_key": "2",
                "method": "btree",
                "expressions": None,
                "predicate": None,
            }
            for name in ("a_idx", "b_idx")
        ]
    )
    marked = database.mark_indexes(frame).set_index("index")
    assert marked.loc["b_idx", "covered_by"] == "a_idx" and marked.loc["a_idx", "covered_by"] == ""


def test_connections_against_usable_slots(db_url, monkeypatch):
    idle_tx = Background(db_url, "conn-idle-tx")
    idle_tx.execute("BEGIN")
    idle_tx.execute("SELECT 1")
    try:
        c = wait_until(lambda: (c := database.connections()) and "conn-idle-tx" in set(c.clients["application"]) and c)
        assert c.usable == c.max_connections - c.superuser_reserved - c.reserved
        assert c.used >= len(c.clients)  # plus this reading's own backend
        assert c.used == len(c.clients) + 1
        by_app = c.by("application").set_index("application")
        assert by_app.loc["conn-idle-tx", "connections"] == 1
        assert c.by("state")["connections"].sum() == len(c.clients)
        ages = c.idle_in_transaction_ages()
        assert ages["sessions"].sum() >= 1 and list(ages["idle for"]) == database.IDLE_TX_LABELS
        assert c.warning is None
        monkeypatch.setenv("CONNECTIONS_WARN_PERCENT", "0")
        assert "CONNECTIONS_WARN_PERCENT" in database.connections().warning
    finally:
        idle_tx.close()


def test_a_role_without_pg_read_all_stats_is_told_what_is_hidden(statements, unprivileged, db_url, monkeypatch):
    role, url = unprivileged
    statements.execute("SELECT 'superuser statement'")
    sleeper = Background(db_url, "su-sleeper").start("SELECT pg_sleep(10)")
    try:
        monkeypatch.setenv("CONNECTION_URL", url)
        c = wait_until(lambda: (c := database.connections()) and c.unknown and c)
        assert f'GRANT pg_read_all_stats TO "{role}"' in c.note
        top = database.top_statements("calls", 500)
        assert top.ok and (top.frame["query"] == database.HIDDEN_QUERY).any()
        assert f'GRANT pg_read_all_stats TO "{role}"' in top.note
        h = database.health()  # statistics views answer any role
        assert "users" in set(h.tables["table"])
    finally:
        sleeper.close()


def test_cli_twins(statements, capsys):
    from db.__main__ import main

    assert main(["connections"]) == 0
    out = capsys.readouterr().out
    assert "usable" in out and "by application:" in out and "idle in transaction" in out
    assert main(["statements", "--by", "calls", "--limit", "5"]) == 0
    assert "top " in capsys.readouterr().out
    assert main(["health"]) == 0
    out = capsys.readouterr().out
    assert "cache hits" in out and "wraparound" in out and "users" in out


def test_cli_statements_without_the_extension_says_how(db, capsys):
    from db.__main__ import main

    assert main(["statements"]) == 1
    err = capsys.readouterr().err
    assert "CREATE EXTENSION" in err and "parameter group" in err


def test_the_readme_reader_role_sees_every_view_without_a_note(statements, db_url, pg_server, monkeypatch):
    """`python -m db roles` makes dashboard_reader a member of pg_read_all_stats only: enough for
    every Database view (no hidden sessions, statements or backends), nothing more."""
    from db import server
    from db.settings import get_settings
    from queries import sessions
    from tests.background import as_user

    server.ensure_roles(server.target(get_settings()))
    login = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("CREATE ROLE {} LOGIN IN ROLE dashboard_reader").format(psycopg.sql.Identifier(login))
        )
    sleeper = Background(db_url, "su-sleeper").start("SELECT pg_sleep(10) /* superuser's */")
    statements.execute("SELECT 'superuser statement'")
    try:
        monkeypatch.setenv("CONNECTION_URL", as_user(db_url, login))
        snap = wait_until(lambda: (s := sessions.snapshot()) and sleeper.pid in set(s.sessions["pid"]) and s)
        assert snap.grant_hint() is None and "superuser's" in snap.sessions.set_index("pid").loc[sleeper.pid, "query"]
        top = database.top_statements("calls", 500)
        assert top.ok and top.note is None and not (top.frame["query"] == database.HIDDEN_QUERY).any()
        c = database.connections()
        assert c.unknown == 0 and c.note is None
        assert database.health().notes == []
    finally:
        sleeper.close()
        from db import pool

        pool.close_all()
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP ROLE IF EXISTS {}").format(psycopg.sql.Identifier(login)))


def test_duplicate_indexes_beside_expression_and_partial_ones_and_not_across_opclass_collation_or_include(db):
    """An expression or partial index elsewhere in the database (a NULL among texts, NaN to pandas)
    must not hide the plain duplicates; a different operator class, collation, order or INCLUDE
    list is no duplicate; unique and exclusion-constraint indexes are never unused."""
    db.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    db.execute("CREATE TABLE ix (a int, b int, c int, e text)")
    for ddl in (
        "CREATE INDEX ix_lower ON ix (lower(e))",
        "CREATE INDEX ix_lower_a ON ix (lower(e), a)",
        "CREATE INDEX ix_upper ON ix (upper(e))",
        "CREATE INDEX ix_partial ON ix (a) WHERE b > 0",
        "CREATE INDEX ix_a ON ix (a)",
        "CREATE INDEX ix_ab ON ix (a, b)",
        "CREATE INDEX ix_e ON ix (e)",
        "CREATE INDEX ix_e_pattern ON ix (e text_pattern_ops)",
        'CREATE INDEX ix_e_c ON ix (e COLLATE "C")',
        "CREATE INDEX ix_b_desc_c ON ix (b DESC, c)",
        "CREATE INDEX ix_bc ON ix (b, c)",
        "CREATE INDEX ix_c_inc_a ON ix (c) INCLUDE (a)",
        "CREATE INDEX ix_ca ON ix (c, a)",
        "CREATE INDEX ix_c_inc_b ON ix (c) INCLUDE (b)",
        "ALTER TABLE ix ADD CONSTRAINT ix_no_overlap EXCLUDE USING gist (a WITH =, b WITH =)",
    ):
        db.execute(ddl)
    idx = database.health().indexes.set_index("index")
    dup = idx["covered_by"].to_dict()
    # Found despite the NULL/NaN mix, and on PostgreSQL 15 although lower(e) sits at another offset
    # of its CREATE INDEX (the stored tree's :location).
    assert dup["ix_a"] == "ix_ab" and dup["ix_lower"] == "ix_lower_a"
    assert dup["ix_c_inc_a"] == "ix_ca"  # (c) INCLUDE (a): (c, a) serves it
    for name in ("ix_ab", "ix_lower_a", "ix_upper", "ix_partial", "ix_e", "ix_e_pattern", "ix_e_c"):
        assert dup[name] == "", name
    for name in ("ix_b_desc_c", "ix_bc", "ix_ca", "ix_c_inc_b", "ix_no_overlap"):
        assert dup[name] == "", name
    assert not idx.loc["ix_no_overlap", "unused"] and idx.loc["ix_a", "unused"]


@pytest.mark.parametrize("limit", ["-1", "0", "501", "abc", "1e3"])
def test_cli_statements_refuses_a_bad_limit_in_one_line(limit, capsys):
    from db.__main__ import main

    with pytest.raises(SystemExit) as exit:
        main(["statements", "--limit", limit])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "argument --limit:" in err and "Traceback" not in err


def test_cli_twins_take_prod_after_their_name(db_url, monkeypatch, capsys):
    from db.__main__ import main

    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    monkeypatch.delenv("APP_ENV", raising=False)  # --prod sets it in os.environ: restored after the test
    for command in ("sessions", "connections", "health"):
        assert main([command, "--prod"]) == 0, command
    assert "wraparound" in capsys.readouterr().out


def test_reset_refused_when_prod_is_the_same_server_spelled_otherwise(statements, db_url, monkeypatch, tmp_path):
    """PROD_CONNECTION_URL naming this very database in another spelling (keyword form, the socket
    directory with a trailing slash), APP_ENV not prod: still production, so no reset without
    ALLOW_PROD_WRITES=1; with it, done."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(db_url)
    if str(params.get("host", "")).startswith("/"):
        params["host"] = params["host"].rstrip("/") + "/"
    elif params.get("host") in ("localhost", "127.0.0.1"):
        params["host"] = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}[params["host"]]
    monkeypatch.setenv("PROD_CONNECTION_URL", make_conninfo(**params))
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "audit.jsonl"))
    statements.execute("SELECT 1 AS kept_by_the_refusal")
    refused = session_actions.reset_statements(actor="admin", schema="public")
    assert refused.outcome == "refused" and "ALLOW_PROD_WRITES" in refused.message
    assert database.top_statements("calls", 500).frame["query"].str.contains("kept_by_the_refusal").any()
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    assert session_actions.reset_statements(actor="admin", schema="public").ok
