"""Peak memory of a raw activities extract: streamed (COPY to a file, what the CLI
does) against materialised (the whole file as bytes, what the page must hand to
Streamlit), each in a fresh child process whose peak RSS the kernel reports.

    python -m bench export_memory [--posts 1000000] [--users 50000] [--repeat 3]

Loads the rows with the seed generator into a dedicated database: on its own
embedded PostgreSQL in a temporary directory, or on BENCH_SERVER_URL (a role
with CREATEDB; the database `bench_export_memory` is created there and kept).
Checks that every export holds exactly SELECT count(*) rows.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DESCRIPTION = "peak RSS of a 1,000,000-activity raw export: streamed vs materialised"
DB_NAME = "bench_export_memory"
MODES = {
    "imports": "child that only imports the export code (floor)",
    "stream": "COPY streamed to a file (python -m queries export raw)",
    "materialised": "the whole file as bytes (the page's download_button)",
}
LIMIT_MB = 200


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not getrusage of the child from
    the parent: Linux carries the parent's peak over to a forked child until exec
    replaces it, and the parent here holds a million generated rows."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def child(mode: str, out: str) -> int:
    """Runs in the measured process: one export, then a JSON line on stdout."""
    from db import pool  # noqa: F401  (the floor includes what an export loads)
    from queries import exports
    from queries.explore import resolve_range

    if mode == "imports":
        print(json.dumps({"rows": 0, "bytes": 0, "seconds": 0.0, "peak_mb": peak_rss_mb()}))
        return 0
    rng = resolve_range("all_time", tz="UTC", fresh=True)
    started = time.perf_counter()
    if mode == "stream":
        with open(out, "wb") as fh:
            result = exports.stream_raw("activities", fh, tz="UTC", start_day=rng.start, end_day=rng.end)
        size = result.bytes
    else:  # what the page did before web/export_route: spool COPY to a file, hand Streamlit the bytes
        with tempfile.TemporaryFile() as spool:
            result = exports.stream_raw("activities", spool, tz="UTC", start_day=rng.start, end_day=rng.end)
            spool.seek(0)
            data = spool.read()
        size = len(data)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": result.rows, "bytes": size, "seconds": seconds, "peak_mb": peak_rss_mb()}))
    return 0


def measure(mode: str, url: str, out: Path) -> dict:
    """Run one child; it reports its own peak RSS."""
    env = {**os.environ, "CONNECTION_URL": url, "APP_ENV": "dev", "CACHE_TTL": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "bench.export_memory", "--child", mode, "--out", str(out)],
                            stdout=subprocess.PIPE, env=env, cwd=Path(__file__).resolve().parent.parent)
    output, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed with exit code {proc.returncode}")
    return json.loads(output.decode().strip().splitlines()[-1])


def prepare(server_url: str, posts: int, users: int, log) -> str:
    from db.embedded import ensure_database
    from db.migrate import migrate
    from queries import execute, fetch, writing
    from seed import generate

    url = ensure_database(server_url, DB_NAME)
    os.environ["CONNECTION_URL"] = url
    os.environ["STATEMENT_TIMEOUT_MS"] = "600000"  # a million-row COPY load outlasts the pages' timeout
    migrate(url, log=lambda m: None)
    counts = fetch("admin.row_counts").iloc[0]
    if int(counts["activities"]) != posts or int(counts["users"]) != users:
        log(f"loading {users:,} users and {posts:,} activities with the seed generator ...")
        with writing("users", "activities") as conn:
            execute(conn, "seed.reset")
            result = generate(conn, users=users, posts=posts, days=365, seed=5)
        log(f"loaded in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s)")
    return url


def count_csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        fh.readline()  # the provenance line
        return sum(1 for _ in csv.reader(fh)) - 1  # minus the header row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench export_memory", description=DESCRIPTION)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=list(MODES), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.out)

    from db import embedded, pool
    from queries import fetch

    def log(msg):
        print(f"[export_memory] {msg}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        tmp = Path(tmp)
        own = not os.environ.get("BENCH_SERVER_URL")
        pgdata = tmp / "pg"
        try:
            server = os.environ.get("BENCH_SERVER_URL") or embedded.start(pgdata, log=log)
            url = prepare(server, args.posts, args.users, log)
            truth = int(fetch("total_posts")["count"].iloc[0])
            pool.close_all()
            runs = {mode: [] for mode in MODES}
            for i in range(args.repeat):
                for mode in MODES:  # interleaved, so drift hits every mode alike
                    out = tmp / f"{mode}.csv"
                    report = measure(mode, url, out)
                    if mode != "imports" and report["rows"] != truth:
                        raise RuntimeError(f"{mode} exported {report['rows']:,} rows; SELECT count(*) says {truth:,}")
                    if mode == "stream" and i == 0:
                        parsed = count_csv_rows(out)
                        if parsed != truth:
                            raise RuntimeError(f"the streamed file parses to {parsed:,} rows, not {truth:,}")
                    out.unlink(missing_ok=True)
                    runs[mode].append(report)
                    log(f"run {i + 1} {mode}: {report['peak_mb']:.0f} MB peak, {report['seconds']:.1f} s")
        finally:
            pool.close_all()
            if own:
                embedded.destroy(pgdata)
    print_table(runs, truth, args)
    stream_peak = statistics.median(r["peak_mb"] for r in runs["stream"])
    return 0 if stream_peak < LIMIT_MB else 1


def print_table(runs: dict, truth: int, args) -> None:
    base = statistics.median(r["peak_mb"] for r in runs["materialised"])
    print(f"\nRaw export of {truth:,} activities (SELECT count(*) = {truth:,}; every export matched), "
          f"median of {args.repeat} runs, peak RSS of the exporting process:\n")
    print(f"| mode | what | peak RSS (MB) | min–max | seconds | file (MB) | peak vs materialised |")
    print(f"|---|---|---:|---:|---:|---:|---:|")
    for mode, what in MODES.items():
        peaks = [r["peak_mb"] for r in runs[mode]]
        med = statistics.median(peaks)
        secs = statistics.median(r["seconds"] for r in runs[mode])
        size = statistics.median(r["bytes"] for r in runs[mode]) / 2**20
        print(f"| {mode} | {what} | {med:.0f} | {min(peaks):.0f}–{max(peaks):.0f} | "
              f"{secs:.1f} | {size:.0f} | {med / base:.2f}× |")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
