"""Messages metrics Lambda throughput: DynamoDB stream records per second into PostgreSQL, batches of 1,000.

    python -m bench messages_handler [--records N] [--runs R] [--batch B]

The Lambda's own handler (lambdas/messages_metrics, loaded by path as `python -m
metrics` does) on one connection to a dedicated embedded server, a database
with all our migrations. Events are built before the clock starts; a run is
`handle()` on every batch (parse, one transaction per batch), so the figure is
parse + write. Three kinds of batch, runs interleaved, median records/s:

  messages   every record a new message (the database's worst case)
  app mix    what the app's stream carries: per message one MSG# INSERT and
             its two group items deleted and re-put (4 ignored records)
  replay     a batch already counted, delivered again (no-op inserts)

The metrics table grows run after run (runs * records messages in the end).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import psycopg

from bench import harness
from metrics.stream import handler

OFFSETS = [timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=5, minutes=45)), UTC]


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


class Records:
    """Synthetic stream records shaped like the app's (DynamoDB JSON, Lambda's fields)."""

    def __init__(self) -> None:
        self.sequence = 10**20
        self.start = datetime(2026, 1, 1, tzinfo=UTC)
        self.groups = [str(uuid.uuid4()) for _ in range(2_000)]
        self.users = [str(uuid.uuid4()) for _ in range(5_000)]
        self.n = 0

    def _record(self, name: str, image: dict, old: bool = False) -> dict:
        self.sequence += 1
        stream = {
            "ApproximateCreationDateTime": 1764201600.0,
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "SequenceNumber": str(self.sequence),
            "SizeBytes": 300,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            ("OldImage" if old else "NewImage"): image,
        }
        return {"eventID": uuid.uuid4().hex, "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": stream}

    def message(self) -> list[dict]:
        self.n += 1
        group = self.groups[self.n % len(self.groups)]
        sk = (self.start + timedelta(seconds=self.n * 7)).astimezone(OFFSETS[self.n % len(OFFSETS)]).isoformat()
        item = {
            "pk": {"S": f"MSG#{group}"},
            "sk": {"S": sk},
            "message": {"S": "hello " * 20},
            "message_uuid": {"S": str(uuid.uuid4())},
            "user_uuid": {"S": self.users[self.n % len(self.users)]},
            "user_display_name": {"S": "Andrew Brown"},
            "user_handle": {"S": "andrewbrown"},
        }
        return [self._record("INSERT", item)]

    def app_mix(self) -> list[dict]:
        records = self.message()
        image = records[0]["dynamodb"]["NewImage"]
        for user in self.users[:2]:
            group = {"pk": {"S": f"GRP#{user}"}, "sk": image["sk"], "message": image["message"]}
            records += [self._record("REMOVE", group, old=True), self._record("INSERT", group)]
        return records

    def batches(self, kind: str, total: int, size: int) -> list[dict]:
        records: list[dict] = []
        while len(records) < total:
            records += self.message() if kind == "messages" else self.app_mix()
        records = records[:total]
        return [{"Records": records[i : i + size]} for i in range(0, total, size)]


def run(conn: psycopg.Connection, events: list[dict]) -> float:
    lf = handler()
    started = time.perf_counter()
    for event in events:
        if lf.handle(event, conn)["batchItemFailures"]:
            raise SystemExit("the handler reported failures on synthetic records")
    return sum(len(e["Records"]) for e in events) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench messages_handler", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000, help="records per run (default 50,000)")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs of each kind (default 5)")
    parser.add_argument("--batch", type=int, default=1_000, help="records per batch (default 1,000)")
    parser.add_argument("--keep", action="store_true", help="leave the embedded server running")
    args = parser.parse_args(argv)
    server_url = harness.start_server(log=log)
    try:
        url = harness.fresh_database(server_url, "bench_messages")
        source = Records()
        samples: dict[str, list[float]] = {"messages": [], "app mix": [], "replay": []}
        with psycopg.connect(url) as conn:
            for r in range(args.runs):
                fresh = source.batches("messages", args.records, args.batch)
                samples["messages"].append(run(conn, fresh))
                samples["replay"].append(run(conn, fresh))
                samples["app mix"].append(run(conn, source.batches("app mix", args.records, args.batch)))
                log(f"run {r + 1}: " + ", ".join(f"{k} {v[-1]:,.0f} records/s" for k, v in samples.items()))
            rows = conn.execute("SELECT count(*) FROM message_events").fetchone()
        print(
            f"Machine: {harness.machine()}; {harness.server_version(server_url)} (embedded); "
            f"{args.records:,} records per run in batches of {args.batch:,}, {args.runs} interleaved runs; "
            f"message_events ends with {rows[0] if rows else 0:,} rows.\n"
        )
        print("| batch kind | median records/s | runs |\n|---|---:|---|")
        for kind, values in samples.items():
            print(f"| {kind} | {statistics.median(values):,.0f} | {', '.join(f'{x:,.0f}' for x in values)} |")
    finally:
        if not args.keep:
            harness.stop_server()
    return 0
