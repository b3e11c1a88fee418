"""python -m seed sample | generate [--users N --posts M --days D --seed S] | reset --yes
| create-activity --handle H --message M --ttl 7-days | messages [--messages N --days D --seed S]"""

from __future__ import annotations

import argparse
import sys

from db import cli
from db.errors import safe_message
from db.guard import WriteRefused
from db.settings import ConfigError
from seed import DEMO, DEMO_MESSAGES
from seed.progress import ProgressBar


def main(argv: list[str] | None = None) -> int:
    from actions.activities import TTLS

    parser = argparse.ArgumentParser(prog="python -m seed", description="Load demo data into the configured database.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sample", help="the original project's sample rows (idempotent)")
    gen = sub.add_parser("generate", help="synthetic users and posts on a growth curve, loaded with COPY")
    # Bounds a demo load can meet: a billion rows, a century (Python's dates end in 9999).
    gen.add_argument("--users", type=cli.whole_number(0, 10**9), default=DEMO["users"])
    gen.add_argument("--posts", type=cli.whole_number(0, 10**9), default=DEMO["posts"])
    gen.add_argument("--days", type=cli.whole_number(1, 36_500), default=DEMO["days"])
    gen.add_argument("--seed", type=cli.whole_number(0, 2**32 - 1), default=DEMO["seed"])
    reset = sub.add_parser("reset", help="empty the users and activities tables")
    reset.add_argument("--yes", action="store_true", help="confirm: every user and activity is deleted")
    create = sub.add_parser("create-activity", help="post one activity, validated like the Admin page's form")
    create.add_argument("--handle", default="", help="the author's handle (an existing user)")
    create.add_argument("--message", default="", help="1 to 280 characters")
    # Not `choices=`: a wrong TTL is reported together with the other problems, as on the page.
    create.add_argument("--ttl", default=None, help=f"one of {', '.join(TTLS)}")
    msgs = sub.add_parser(
        "messages",
        help="synthetic DynamoDB stream records of conversations between existing users, "
        "through the messages metrics Lambda's own handler",
    )
    msgs.add_argument("--messages", type=cli.whole_number(0, 10**9), default=DEMO_MESSAGES["messages"])
    msgs.add_argument("--days", type=cli.whole_number(1, 36_500), default=DEMO_MESSAGES["days"])
    msgs.add_argument("--seed", type=cli.whole_number(0, 2**32 - 1), default=DEMO_MESSAGES["seed"])
    args = parser.parse_args(argv)

    from actions.activities import ActivityRejected, create_activity
    from exports.formats import to_table
    from seed import actions

    try:
        if args.command == "sample":
            users, activities = actions.seed_sample()
            print(f"sample seed: {users} user(s) and {activities} activity(ies) added")
        elif args.command == "generate":
            result = actions.seed_generate(
                users=args.users, posts=args.posts, days=args.days, seed=args.seed, progress=ProgressBar("generate")
            )
            print(
                f"generated {result.users:,} users and {result.posts:,} posts in {result.seconds:.2f} s "
                f"({result.rows_per_second:,.0f} rows/s, COPY)"
                + (f"; rollup recounted in {result.rollup_seconds:.2f} s" if result.rollup_seconds else "")
            )
        elif args.command == "reset":
            if not args.yes:
                print("reset deletes every user and activity; run again with --yes to confirm", file=sys.stderr)
                return 2
            actions.reset(confirmed=True)
            print("users and activities emptied")
        elif args.command == "create-activity":
            created = create_activity(handle=args.handle, message=args.message, ttl=args.ttl)
            print(to_table(created), end="")
        elif args.command == "messages":
            from seed import messages

            loaded = messages.load(
                messages=args.messages, days=args.days, seed=args.seed, progress=ProgressBar("messages")
            )
            print(
                f"{loaded.records:,} stream record(s) through the handler in {loaded.seconds:.2f} s "
                f"({loaded.records_per_second:,.0f} records/s): {loaded.messages:,} message(s) in "
                f"{loaded.conversations:,} conversation(s), {loaded.added:,} newly counted"
                + (f"; {loaded.failed:,} record(s) failed (see the log)" if loaded.failed else "")
            )
    except ActivityRejected as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except (WriteRefused, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise
    except Exception as exc:  # database errors: one clear line, no traceback, no secrets
        print(f"error: {safe_message(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    cli.entry(main)
