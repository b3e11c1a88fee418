"""python -m queries list | run NAME [--param key=value ...] [--format csv|json|table] [--fresh] | export ...

`run` runs read statements only (the catalog marks each read, write or admin);
writes and admin actions have their own guarded commands. `export` is described
in exports/cli.py."""

from __future__ import annotations

import argparse
import sys

import psycopg

from db import cli
from db.errors import safe_message, scrub
from db.settings import ConfigError


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queries", description="Run the dashboard's named queries.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every query with its class (read, write, admin) and description")
    run_p = sub.add_parser("run", help="run one read query and print exactly what the page shows")
    run_p.add_argument("name")
    run_p.add_argument("--param", "-p", action="append", type=_param, default=[], metavar="KEY=VALUE")
    run_p.add_argument("--format", "-f", choices=["csv", "json", "table"], default="table")
    run_p.add_argument("--fresh", action="store_true", help="bypass the cache")
    from exports import cli as export_cli

    export_cli.add_parser(sub)
    args = parser.parse_args(argv)

    from exports.formats import RENDERERS
    from queries import catalog
    from queries.reads import run

    if args.command == "export":
        return _export(args)
    if args.command == "list":
        for name, query in sorted(catalog.catalog().items()):
            print(f"{name:36} {query.statement_class:5} {query.doc}")
        return 0
    try:
        frame = run(args.name, fresh=args.fresh, **dict(args.param))
    except (catalog.UnknownQuery, catalog.NotARead, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except psycopg.DataError as exc:  # a value given with -p that the statement cannot use (or answer for)
        detail = scrub(exc.diag.message_primary or str(exc).splitlines()[0])
        print(f"error: the statement cannot use the parameters given: {detail}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1
    sys.stdout.write(RENDERERS[args.format](frame))
    return 0


def _export(args: argparse.Namespace) -> int:
    from exports import cli as export_cli
    from queries.explore import ExploreError

    try:
        return export_cli.export(args)
    except BrokenPipeError:
        raise
    except (ExploreError, ConfigError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    cli.entry(main)
