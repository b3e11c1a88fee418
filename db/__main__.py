"""python -m db [--prod] COMMAND: the database chores the original shell scripts did, safely.

Every command names its target: CONNECTION_URL, or PROD_CONNECTION_URL with
--prod (or APP_ENV=prod). Connections are printed only without their secrets
(db.conninfo). Whether the target is production is db.guard's answer, under any
spelling of its URL. Against production: drop and kill-all need --prod and the
database name typed back (or --yes-i-mean-prod); create, migrate, roles and
rollup need --prod; setup and seed refuse it outright.

Long because it is every database chore's command line, the Database pages' twins
(sessions, connections, statements, health) included; each command is a short function.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from db import cli
from db.errors import safe_message, scrub
from db.guard import WriteRefused, require_not_production
from db.settings import ConfigError, get_settings

if TYPE_CHECKING:
    from db.server import DatabaseTarget


class Refused(PermissionError):
    """A command was refused by a guard; nothing was changed."""


def _target():
    from db.server import target

    return target(get_settings())


def deliberate(args: argparse.Namespace, t: DatabaseTarget, action: str) -> DatabaseTarget:
    """Production only with --prod: a URL that turns out to name it is not enough.
    Returns the target, marked as deliberately chosen when it is production."""
    if t.is_prod and not args.prod:
        raise Refused(
            f"Refused to {action}: {t.setting_name} is the production database ({t.why}). "
            "Use --prod to act on production deliberately. Nothing was changed."
        )
    return replace(t, production_ok=t.is_prod)


def confirm_destructive(args: argparse.Namespace, t: DatabaseTarget, action: str) -> DatabaseTarget:
    """Production needs --prod, then the database name typed back or --yes-i-mean-prod."""
    if not t.is_prod:
        return t
    t = deliberate(args, t, action)
    if args.yes_i_mean_prod:
        return t
    print(f"This will {action} on PRODUCTION: {t.shown}", file=sys.stderr)
    print(f"Type the database name ({t.dbname}) to confirm: ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline().strip() if sys.stdin else ""
    except (OSError, ValueError):
        answer = ""
    if answer != t.dbname:
        raise Refused(f"Refused to {action}: the name typed did not match {t.dbname!r}. Nothing was changed.")
    return t


def cmd_create(args: argparse.Namespace) -> int:
    from db.server import create_database

    t = _target()
    t = deliberate(args, t, f"create database {t.dbname}")
    made = create_database(t)
    print(f"database {t.dbname} {'created' if made else 'already exists'} ({t.shown})")
    return 0


def cmd_drop(args: argparse.Namespace) -> int:
    from db.server import drop_database

    t = _target()
    t = confirm_destructive(args, t, f"drop database {t.dbname}")
    dropped = drop_database(t)
    print(f"database {t.dbname} {'dropped' if dropped else 'did not exist'} ({t.shown})")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.migrate import migrate

    t = _target()
    t = deliberate(args, t, "migrate")
    applied = migrate(t.url, production_ok=t.production_ok)
    print(f"{len(applied)} migration(s) applied to {t.shown}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from db import server
    from db.migrate import applied, discover
    from queries.reads import fetch

    settings = get_settings()
    t = _target()
    with server.connect(t) as conn:
        done = applied(conn)
        version = conn.info.server_version
    print(f"database   {t.shown} ({settings.app_env})")
    print(f"server     PostgreSQL {version // 10000}.{version % 10000}")
    for m in discover():
        print(f"migration  {m.path.name:40} {'applied' if m.version in done else 'PENDING'}")
    counts = fetch("admin.row_counts").iloc[0]
    print(f"rows       users={counts['users']:,} activities={counts['activities']:,}")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    """Every session in scope, idle ones included, as a text table; then each lock wait."""
    from exports.formats import to_table
    from queries import blocking, sessions

    snap = sessions.snapshot(all_databases=args.all)
    # This command's own other connections (its pool's) are not what anyone asked about.
    listed, hidden = sessions.filtered(snap.sessions, hide_idle=False)
    rows = sessions.table(listed, short_query=True)
    scope = "all databases" if args.all else f"database {snap.viewer['database']}"
    c = sessions.counts(listed)
    note = sessions.hidden_note(hidden)
    print(
        f"{c['sessions']} session(s) in {scope} as {snap.viewer['user']}: {c['active']} active, "
        f"{c['long_running']} long-running (>= {snap.limits.long_query_s:g} s), "
        f"{c['idle_in_transaction']} idle in transaction (>= {snap.limits.idle_in_transaction_s:g} s), "
        f"{c['blocked']} blocked" + (f"; {note}" if note else "")
    )
    hint = snap.grant_hint()
    if hint:
        print("note: " + hint.replace("`", ""))
    shown = rows[["pid", "user", "application", "state", "duration", "duration_seconds", "wait", "query"]]
    print(to_table(shown) if len(rows) else "(no sessions)\n", end="")
    waiting = listed[listed["lock_mode"].notna()] if "lock_mode" in listed else rows.iloc[0:0]
    if len(waiting):
        print(f"\nlock waits ({len(waiting)}):")
        for row in waiting.to_dict("records"):
            print(
                f"  {row['pid']} wants {row['lock_mode']} [{row['lock_type']}] on {row['lock_on']}; "
                f"held by: {row['lock_holders'] or 'unknown'}"
            )
        tree = blocking.blocking_tree(snap.sessions)
        print("blocking tree:")
        for node in tree.to_dict("records"):
            holds = f", session above holds {node['parent_holds']}" if node["parent_holds"] else ""
            wants = f" wants {node['wants']}{holds}" if node["wants"] else " (holds the lock)"
            print(f"  {'  ' * node['level']}{node['pid']} {node['application'] or ''}{wants}")
    return 0


def cmd_connections(args: argparse.Namespace) -> int:
    """Connection slots used against max_connections less the reserved ones, and who uses them."""
    from exports.formats import to_table
    from queries import database

    c = database.connections()
    print(
        f"connections {c.used} of {c.usable} usable ({c.percent:.0f}%): max_connections {c.max_connections} "
        f"- superuser_reserved_connections {c.superuser_reserved} - reserved_connections {c.reserved}"
    )
    if c.warning:
        print("WARNING: " + c.warning)
    if c.note:
        print("note: " + c.note.replace("`", ""))
    for column in ("state", "user", "application", "client", "database"):
        print(f"\nby {column}:")
        print(to_table(c.by(column)), end="")
    print("\nidle in transaction, by how long:")
    print(to_table(c.idle_in_transaction_ages()), end="")
    return 0


def cmd_statements(args: argparse.Namespace) -> int:
    """This database's top statements from pg_stat_statements."""
    from exports.formats import to_table
    from queries import database, sessions

    top = database.top_statements(args.by, args.limit)
    if not top.ok:
        print(top.message, file=sys.stderr)
        print(database.ENABLE_HELP.replace("**", "").replace("`", ""), file=sys.stderr)
        return 1
    if top.note:
        print("note: " + top.note.replace("`", ""))
    frame = top.frame[["calls", "total_ms", "mean_ms", "rows", "user", "query"]].copy()
    frame["total_ms"] = frame["total_ms"].round(1)
    frame["mean_ms"] = frame["mean_ms"].round(2)
    frame["query"] = frame["query"].map(lambda q: sessions.shorten(q, 100))
    print(f"top {len(frame)} statement(s) of this database by {args.by}:")
    print(to_table(frame) if len(frame) else "(none yet)\n", end="")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Table and index health, wraparound, cache hits and replication, with pghero's thresholds."""
    from exports.formats import to_table
    from queries import database

    h = database.health()
    d = h.database
    left, before_freeze, warn = h.wraparound()
    p = database.PGHERO
    for label, key in (("tables", "table_hit_pct"), ("indexes", "index_hit_pct")):
        value = d[key]
        shown = "no reads yet" if value is None else f"{value:.2f}%"
        print(f"cache hits, {label:8} {shown} (pghero: >= {p['cache_hit_rate_threshold']}%)")
    print(
        f"wraparound     {left:,} transactions left, {before_freeze:,} before a forced freeze"
        + (" WARNING" if warn else "")
    )
    if d["is_replica"]:
        lag = d["replica_lag_seconds"]  # None: no transaction replayed since the replica started
        shown = "not known yet" if lag is None else f"{lag:.1f} s"
        print(f"replica lag    {shown} (pghero: < {p['replication_lag_seconds']} s)")
    else:
        print(f"replicas       {len(h.replicas)} streaming")
    for note in h.notes:
        print("note: " + note.replace("`", ""))
    tables = h.tables[["schema", "table", "total_bytes", "live_rows", "dead_rows", "bloat_bytes", "vacuum_due"]]
    tables = tables.assign(bloat_bytes=tables["bloat_bytes"].fillna(0).astype("int64"))  # no rows: nothing dead
    print("\ntables:")
    print(to_table(tables) if len(tables) else "(none)\n", end="")
    indexes = h.indexes[["schema", "table", "index", "size_bytes", "scans", "unused", "covered_by"]]
    print("\nindexes (unused: no scan since the statistics reset, not unique; covered_by: a duplicate):")
    print(to_table(indexes) if len(indexes) else "(none)\n", end="")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from actions.writing import writing
    from seed import DEMO, generate, load_sample

    t = _target()
    require_not_production("seed the database with demo data", url=t.url)
    with writing("users", "activities") as conn:
        users, activities = load_sample(conn)
        print(f"sample seed: {users} user(s) and {activities} activity(ies) added to {t.shown}")
        if args.demo:
            result = generate(conn, users=DEMO["users"], posts=DEMO["posts"], days=DEMO["days"], seed=DEMO["seed"])
            print(f"demo data: {result.users:,} users and {result.posts:,} posts")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """drop, create, migrate, seed: only ever a development database."""
    from db.migrate import migrate
    from db.server import create_database, drop_database

    if get_settings().is_prod or args.prod:
        raise Refused("Refused: setup drops and recreates the database, so it never runs against production.")
    t = _target()
    require_not_production("set up (drop and re-create) the database", url=t.url)
    print(f"setup {t.shown}")
    print(f"  drop     {'dropped' if drop_database(t) else 'did not exist'}")
    print(f"  create   {'created' if create_database(t) else 'already exists'}")
    print(f"  migrate  {len(migrate(t.url, log=lambda m: None))} migration(s) applied")
    return cmd_seed(args)


def cmd_connect(args: argparse.Namespace) -> int:
    """Replace this process with psql. The password (or IAM token) goes in PGPASSWORD,
    the rest as a conninfo string without it, so neither shows on screen."""
    from psycopg.conninfo import make_conninfo

    from db import rds

    t = _target()
    psql = shutil.which("psql")
    if not psql:
        raise ConfigError("psql is not installed (Debian: apt-get install postgresql-client).")
    params = {**rds.params(t.url), **rds.security_kwargs(t.url)}
    env = dict(os.environ)
    if params.get("sslpassword"):  # libpq has no environment variable for it: it would sit in `ps`
        raise ConfigError(
            "connect cannot hand an sslpassword to psql without showing it on psql's command line; "
            "run psql yourself with the key decrypted, or without sslpassword in the URL."
        )
    password = params.pop("password", None)
    if password:
        env["PGPASSWORD"] = str(password)
    params.setdefault("application_name", "psql (python -m db connect)")
    print(f"psql {t.shown}", file=sys.stderr, flush=True)
    extra = args.psql_args[1:] if args.psql_args[:1] == ["--"] else args.psql_args
    os.execve(psql, [psql, make_conninfo(**params), *extra], env)


def cmd_kill_all(args: argparse.Namespace) -> int:
    from db.server import terminate_others

    t = _target()
    t = confirm_destructive(args, t, f"terminate every other session of {t.dbname}")
    n = terminate_others(t)
    print(f"{n} session(s) of {t.dbname} terminated ({t.shown})")
    return 0


def cmd_roles(args: argparse.Namespace) -> int:
    from db.server import ensure_roles

    t = _target()
    t = deliberate(args, t, "create roles and grant privileges")
    for line in ensure_roles(t):
        print(line)
    print(f"roles ready in {t.shown}")
    return 0


def cmd_rollup(args: argparse.Namespace) -> int:
    from actions import rollup
    from queries.reads import fetch

    t = _target()
    t = deliberate(args, t, "maintain the rollup")
    if args.rebuild:
        rollup.rebuild()
        print("rollup recounted")
    marks = rollup.refresh(wait_s=args.wait)
    if marks is None:
        print("rollup not advanced: another refresh is running or a writer stayed open; try again", file=sys.stderr)
        return 1
    for row in fetch("rollup.state").itertuples():
        print(f"rollup     {row.tbl:11} rolled up before {row.through} (UTC): {row.total:,} rows")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m db", description="Manage the dashboard's database.")
    parser.add_argument("--prod", action="store_true", help="target PROD_CONNECTION_URL (same as APP_ENV=prod)")
    parser.add_argument(
        "--yes-i-mean-prod", action="store_true", help="with --prod: skip typing the database name (automation)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("create", help="create the database if it is missing").set_defaults(func=cmd_create)
    sub.add_parser("drop", help="drop the database (WITH (FORCE) on PostgreSQL 13+)").set_defaults(func=cmd_drop)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("status", help="migrations applied and pending, row counts, server version").set_defaults(
        func=cmd_status
    )
    # The Database pages' twins read only.
    sessions = sub.add_parser("sessions", help="who is connected to this database, what runs, who is blocked")
    sessions.add_argument("--all", action="store_true", help="every database on the server, not just this one")
    connections = sub.add_parser("connections", help="connection slots used against max_connections, by state/user/app")
    statements = sub.add_parser("statements", help="top statements from pg_stat_statements")
    statements.add_argument("--by", choices=["total", "mean", "calls", "rows"], default="total")
    statements.add_argument("--limit", type=cli.whole_number(1, 500), default=20, help="1 to 500 (default 20)")
    health = sub.add_parser("health", help="sizes, unused/duplicate indexes, dead rows, wraparound, cache hits")
    for twin, func in ((sessions, cmd_sessions), (connections, cmd_connections), (statements, cmd_statements)):
        twin.set_defaults(func=func)
    health.set_defaults(func=cmd_health)
    seed = sub.add_parser("seed", help="load the original sample rows (never into production)")
    seed.add_argument("--demo", action="store_true", help="also generate the demo growth data")
    seed.set_defaults(func=cmd_seed)
    setup = sub.add_parser("setup", help="drop, create, migrate, seed (development only)")
    setup.add_argument("--demo", action="store_true", help="also generate the demo growth data")
    setup.set_defaults(func=cmd_setup)
    connect = sub.add_parser("connect", help="open psql on the database without printing its URL")
    connect.add_argument("psql_args", nargs=argparse.REMAINDER, help="passed to psql (after --)")
    connect.set_defaults(func=cmd_connect)
    sub.add_parser("kill-all", help="terminate every other session of the database").set_defaults(func=cmd_kill_all)
    sub.add_parser("roles", help="create dashboard_reader / dashboard_writer and grant their privileges").set_defaults(
        func=cmd_roles
    )
    roll = sub.add_parser("rollup", help="advance the growth rollup to the last closed quarter hour (cron-able)")
    roll.add_argument(
        "--rebuild", action="store_true", help="first recount every rolled-up quarter hour and its minutes (repair)"
    )
    roll.add_argument(
        "--wait", type=cli.seconds(3600), default=30.0, help="seconds to wait for open writers (default 30)"
    )
    roll.set_defaults(func=cmd_rollup)
    # Every command takes --prod (and --yes-i-mean-prod) after its name too, as the README shows them.
    for command in sub.choices.values():
        command.add_argument("--prod", action="store_true", default=argparse.SUPPRESS, help="same as the global --prod")
        command.add_argument(
            "--yes-i-mean-prod", action="store_true", default=argparse.SUPPRESS, help="same as the global one"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.prod:
        os.environ["APP_ENV"] = "prod"
    try:
        return args.func(args)
    except (Refused, WriteRefused, ConfigError) as exc:
        print(f"error: {scrub(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except Exception as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    cli.entry(main)
