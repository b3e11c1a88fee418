"""Peak memory of a raw activities extract: the app's route and the CLI against the old page.
(Long because the three ways, their child processes and the memory sampler belong to one run.)

The app's streaming route is web/export_route (what the Explore page links to),
the CLI is `python -m queries export raw`, and the old page's way was the whole
file as bytes for Streamlit's download_button.

    python -m bench export_memory [--posts 1000000] [--users 50000] [--repeat 3]

Modes, interleaved in every repeat:
    imports       a child process that only imports the export code (the floor)
    stream        a child running the CLI's export (COPY straight to a file)
    materialised  a child making the file as one bytes object (the old page)
    route         the real app (`streamlit run app.py`, as `make run` serves it),
                  warmed up with one run of the default page, then one download of
                  the extract through a signed /export/raw link, read as a browser
                  does (gzip accepted). Measured on the server process: its RSS
                  before the download, and its peak during the download (VmHWM,
                  reset just before through /proc/PID/clear_refs).

Child modes report their own peak RSS (VmHWM). Loads the rows with the seed
generator into a dedicated database: on its own embedded PostgreSQL in a
temporary directory, or on BENCH_SERVER_URL (a role with CREATEDB; the database
`bench_export_memory` is created there and kept). Checks that every export
holds exactly SELECT count(*) rows, and that the downloaded file parses to that
many. Exit status 1 when a streamed mode peaks at 200 MB or more.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DESCRIPTION = "peak RSS of a 1,000,000-activity raw export: app route and CLI streamed vs materialised"
DB_NAME = "bench_export_memory"
MODES = {
    "imports": "child that only imports the export code (floor)",
    "stream": "COPY streamed to a file (python -m queries export raw)",
    "materialised": "the whole file as bytes (the old page: download_button)",
    "route": "the app's /export/raw link (the Explore page now)",
}
STREAMED = ("stream", "route")
LIMIT_MB = 200


def status_mb(field: str, pid: int | str = "self") -> float:
    """VmHWM (peak resident set) or VmRSS of a process, from /proc (Linux only).
    Not getrusage of a child from the parent: Linux carries the parent's peak over
    to a forked child until exec replaces it, and the parent here holds a million
    generated rows."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/{pid}/status (Linux only)")


def peak_rss_mb() -> float:
    return status_mb("VmHWM")


def child(mode: str, out: str) -> int:
    """Runs in the measured process: one export, then a JSON line on stdout."""
    from db import pool  # noqa: F401  (the floor includes what an export loads)
    from exports import raw
    from queries.explore import resolve_range

    if mode == "imports":
        print(json.dumps({"rows": 0, "bytes": 0, "seconds": 0.0, "peak_mb": peak_rss_mb()}))
        return 0
    rng = resolve_range("all_time", tz="UTC", fresh=True)
    started = time.perf_counter()
    if mode == "stream":
        with open(out, "wb") as fh:
            result = raw.stream_raw("activities", fh, tz="UTC", start_day=rng.start, end_day=rng.end, style="header")
        size = result.bytes
    else:  # what the page did before web/export_route: spool COPY to a file, hand Streamlit the bytes
        with tempfile.TemporaryFile() as spool:
            result = raw.stream_raw("activities", spool, tz="UTC", start_day=rng.start, end_day=rng.end, style="header")
            spool.seek(0)
            data = spool.read()
        size = len(data)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": result.rows, "bytes": size, "seconds": seconds, "peak_mb": peak_rss_mb()}))
    return 0


def measure(mode: str, url: str, out: Path) -> dict:
    """Run one child; it reports its own peak RSS."""
    env = {**os.environ, "CONNECTION_URL": url, "APP_ENV": "dev", "CACHE_TTL": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.export_memory", "--child", mode, "--out", str(out)],
        stdout=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    output, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} child failed with exit code {proc.returncode}")
    return json.loads(output.decode().strip().splitlines()[-1])


def measure_route(url: str, out: Path, log) -> dict:
    """Serve the real app, download the extract through a signed link, stop the app."""
    from queries.explore import resolve_range
    from web import export_route

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = secrets.token_hex(32)
    env = {**os.environ, "CONNECTION_URL": url, "APP_ENV": "dev", "CACHE_TTL": "0", "EXPORT_SIGNING_KEY": key}
    cmd = [
        sys.executable,
        "-m",
        "web",
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    app = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                if app.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the app did not start") from None
                time.sleep(0.2)
        with urllib.request.urlopen(f"{base}/_stcore/script-health-check", timeout=120) as r:
            r.read()  # one run of the default page, as serve.py does at start-up: a server that has served
        time.sleep(1)
        before = status_mb("VmRSS", app.pid)
        try:
            Path(f"/proc/{app.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS, so the peak is the download's
            reset = True
        except OSError:
            reset = False
        rng = resolve_range("all_time", tz="UTC", fresh=True)
        os.environ["EXPORT_SIGNING_KEY"] = key
        link = export_route.raw_link(
            "activities", tz="UTC", start_day=rng.start, end_day=rng.end, style="header", max_rows=None
        )
        started = time.perf_counter()
        request = urllib.request.Request(base + link, headers={"Accept-Encoding": "gzip"})
        size = 0
        with urllib.request.urlopen(request, timeout=600) as response, out.open("wb") as fh:
            gzipped = response.headers.get("Content-Encoding") == "gzip"
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while block := response.read(1 << 20):
                data = inflate.decompress(block) if gzipped else block
                fh.write(data)
                size += len(data)
            fh.write(inflate.flush() if gzipped else b"")
        seconds = time.perf_counter() - started
        peak = status_mb("VmHWM", app.pid)
    finally:
        app.terminate()
        try:
            app.wait(10)
        except subprocess.TimeoutExpired:
            app.kill()
    with out.open(encoding="utf-8") as fh:
        rows = int(csv_header(fh.readline())["rows"])
    if not reset:
        log("could not reset the app's VmHWM (/proc/PID/clear_refs): its peak includes the warm-up")
    return {"rows": rows, "bytes": size, "seconds": seconds, "peak_mb": peak, "before_mb": before, "gzip": gzipped}


def csv_header(line: str) -> dict:
    from exports.files import parse_header_line

    return parse_header_line(line)


def prepare(server_url: str, posts: int, users: int, log) -> str:
    from actions.writing import writing
    from db.embedded import ensure_database
    from db.migrate import migrate
    from db.statements import execute
    from queries.reads import fetch
    from seed import generate

    url = ensure_database(server_url, DB_NAME)
    os.environ["CONNECTION_URL"] = url
    os.environ["STATEMENT_TIMEOUT_MS"] = "600000"  # a million-row COPY load outlasts the pages' timeout
    migrate(url, log=lambda m: None)
    counts = fetch("admin.row_counts").iloc[0]
    if int(counts["activities"]) != posts or int(counts["users"]) != users:
        log(f"loading {users:,} users and {posts:,} activities with the seed generator ...")
        with writing("users", "activities") as conn:
            execute(conn, "seed.reset", allow="write")
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
    from queries.reads import fetch

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
                    report = measure_route(url, out, log) if mode == "route" else measure(mode, url, out)
                    if mode != "imports" and report["rows"] != truth:
                        raise RuntimeError(f"{mode} exported {report['rows']:,} rows; SELECT count(*) says {truth:,}")
                    if mode in STREAMED:
                        parsed = count_csv_rows(out)
                        if parsed != truth:
                            raise RuntimeError(f"the {mode} file parses to {parsed:,} rows, not {truth:,}")
                    out.unlink(missing_ok=True)
                    runs[mode].append(report)
                    log(f"run {i + 1} {mode}: {report['peak_mb']:.0f} MB peak, {report['seconds']:.1f} s")
        finally:
            pool.close_all()
            if own:
                embedded.destroy(pgdata)
    print_table(runs, truth, args)
    return 0 if all(statistics.median(r["peak_mb"] for r in runs[mode]) < LIMIT_MB for mode in STREAMED) else 1


def print_table(runs: dict, truth: int, args) -> None:
    import platform

    base = statistics.median(r["peak_mb"] for r in runs["materialised"])
    route = runs["route"][0]
    print(
        f"\nRaw export of {truth:,} activities (SELECT count(*) = {truth:,}; every export matched, and the "
        f"streamed files parse to that many rows), median of {args.repeat} runs; {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. Peak RSS of the exporting process; for `route`, the app server's "
        f"RSS before the download and its peak during it (the file {'gzip-encoded' if route['gzip'] else 'plain'} "
        "on the wire, as a browser gets it):\n"
    )
    print(
        "| mode | what | peak RSS (MB) | min–max | RSS before (MB) | growth (MB) | seconds | file (MB) "
        "| peak vs materialised |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for mode, what in MODES.items():
        peaks = [r["peak_mb"] for r in runs[mode]]
        med = statistics.median(peaks)
        secs = statistics.median(r["seconds"] for r in runs[mode])
        size = statistics.median(r["bytes"] for r in runs[mode]) / 2**20
        if "before_mb" in runs[mode][0]:
            before = statistics.median(r["before_mb"] for r in runs[mode])
            growth = statistics.median(r["peak_mb"] - r["before_mb"] for r in runs[mode])
            idle = f"{before:.0f} | {growth:+.0f}"
        else:
            idle = "– | –"
        print(
            f"| {mode} | {what} | {med:.0f} | {min(peaks):.0f}–{max(peaks):.0f} | {idle} | "
            f"{secs:.1f} | {size:.0f} | {med / base:.2f}× |"
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
