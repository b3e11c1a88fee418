"""python -m seed sample | generate [--users N --posts M --days D --seed S] | reset --yes"""
from __future__ import annotations

import argparse
import sys

from db.errors import safe_message
from db.guard import WriteRefused, require_writable
from db.settings import ConfigError
from seed import DEMO, generate, load_sample
from seed.progress import ProgressBar


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed", description="Load demo data into the configured database.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sample", help="the original project's sample rows (idempotent)")
    gen = sub.add_parser("generate", help="synthetic users and posts on a growth curve, loaded with COPY")
    gen.add_argument("--users", type=int, default=DEMO["users"])
    gen.add_argument("--posts", type=int, default=DEMO["posts"])
    gen.add_argument("--days", type=int, default=DEMO["days"])
    gen.add_argument("--seed", type=int, default=DEMO["seed"])
    reset = sub.add_parser("reset", help="empty the users and activities tables")
    reset.add_argument("--yes", action="store_true", help="confirm: every user and activity is deleted")
    args = parser.parse_args(argv)

    from queries import execute, writing

    try:
        if args.command == "sample":
            require_writable("load the sample seed")
            with writing("users", "activities") as conn:
                users, activities = load_sample(conn)
            print(f"sample seed: {users} user(s) and {activities} activity(ies) added")
        elif args.command == "generate":
            require_writable("generate synthetic data")
            bar = ProgressBar("generate")
            with writing("users", "activities") as conn:
                result = generate(conn, users=args.users, posts=args.posts, days=args.days, seed=args.seed, progress=bar)
            print(f"generated {result.users:,} users and {result.posts:,} posts in {result.seconds:.2f} s "
                  f"({result.rows_per_second:,.0f} rows/s, COPY)"
                  + (f"; rollup recounted in {result.rollup_seconds:.2f} s" if result.rollup_seconds else ""))
        elif args.command == "reset":
            if not args.yes:
                print("reset deletes every user and activity; run again with --yes to confirm", file=sys.stderr)
                return 2
            require_writable("reset the users and activities tables")
            with writing("users", "activities") as conn:
                execute(conn, "seed.reset")
            print("users and activities emptied")
    except (WriteRefused, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # database errors: one clear line, no traceback, no secrets
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
