"""python -m metrics follow [--table T] [--max-polls N] [--interval S] [--from latest|trim-horizon]
| backfill [--table T]"""

from __future__ import annotations

import argparse
import sys

from db import cli
from db.errors import safe_message
from db.guard import WriteRefused
from db.settings import ConfigError
from metrics import stream


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m metrics", description="Messaging metrics from DynamoDB into the configured database."
    )
    parser.add_argument("--table", default=stream.TABLE, help=f"the DynamoDB table (default {stream.TABLE})")
    sub = parser.add_subparsers(dest="command", required=True)
    follow = sub.add_parser("follow", help="poll the table's stream and feed the Lambda's handler")
    follow.add_argument(
        "--max-polls", type=int, default=None, help="stop after N polls of every shard (default: never)"
    )
    follow.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
    follow.add_argument(
        "--from",
        dest="start",
        choices=("trim-horizon", "latest"),
        default="trim-horizon",
        help="where in the shards present at start to begin (default trim-horizon: the last 24 h, replays are no-ops)",
    )
    backfill = sub.add_parser("backfill", help="scan the table and add every message not counted yet (idempotent)")
    for command in (follow, backfill):  # --table before or after the command, as people type it
        command.add_argument("--table", default=argparse.SUPPRESS, help="same as the global --table")
    args = parser.parse_args(argv)
    try:
        if args.command == "follow":
            totals = stream.follow(
                args.table, max_polls=args.max_polls, interval=args.interval, start=args.start.upper().replace("-", "_")
            )
        else:
            totals = stream.backfill(args.table)
    except (WriteRefused, ConfigError, stream.SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except Exception as exc:  # database errors: one clear line, no traceback, no secrets
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1
    print(totals.line(args.command))
    return 1 if totals.failed else 0


if __name__ == "__main__":
    cli.entry(main)
