"""python -m db COMMAND: the database chores the original shell scripts did, safely."""
from __future__ import annotations

import argparse
import sys

from db.errors import safe_message
from db.settings import ConfigError, get_settings, mask_url


def cmd_migrate(args) -> int:
    from db.migrate import migrate

    settings = get_settings()
    applied = migrate(settings.require_url())
    print(f"{len(applied)} migration(s) applied to {mask_url(settings.database_url)}")
    return 0


def cmd_status(args) -> int:
    import psycopg

    from db.migrate import applied, discover
    from queries import fetch

    settings = get_settings()
    url = settings.require_url()
    with psycopg.connect(url) as conn:
        done = applied(conn)
        version = conn.info.server_version
    print(f"database   {mask_url(url)} ({settings.app_env})")
    print(f"server     PostgreSQL {version // 10000}.{version % 10000}")
    for m in discover():
        print(f"migration  {m.path.name:40} {'applied' if m.version in done else 'PENDING'}")
    counts = fetch("admin.row_counts").iloc[0]
    print(f"rows       users={counts['users']:,} activities={counts['activities']:,}")
    return 0


def cmd_rollup(args) -> int:
    from queries import fetch, rollup, writing

    if args.rebuild:
        with writing("users", "activities") as conn:
            rollup.rebuild(conn)
        print("rollup recounted")
    marks = rollup.refresh(wait_s=args.wait)
    if marks is None:
        print("rollup not advanced: another refresh is running or a writer stayed open; try again", file=sys.stderr)
        return 1
    for row in fetch("rollup.state").itertuples():
        print(f"rollup     {row.tbl:11} rolled up before {row.through} (UTC)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m db", description="Manage the dashboard's database.")
    parser.add_argument("--prod", action="store_true", help="target PROD_CONNECTION_URL (same as APP_ENV=prod)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("status", help="migrations applied and pending, row counts, server version").set_defaults(func=cmd_status)
    roll = sub.add_parser("rollup", help="advance the hourly growth rollup to the last closed hour (cron-able)")
    roll.add_argument("--rebuild", action="store_true", help="first recount every rolled-up hour (repair)")
    roll.add_argument("--wait", type=float, default=30.0, help="seconds to wait for open writers (default 30)")
    roll.set_defaults(func=cmd_rollup)
    args = parser.parse_args(argv)
    if args.prod:
        import os

        os.environ["APP_ENV"] = "prod"
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
