"""Load: N concurrent sessions reloading the Growth page for a while.

    .venv/bin/python -m bench.load [--sessions 25] [--seconds 60] [--posts 1000000] [--ttl 60] [--client ws|browser]

Starts its own embedded PostgreSQL (under .data/bench-load), loads demo data
with the seed generator, serves the real app with serve.py, measures the first
visit and a reload in headless Chromium, times the server's CPU per view with
one session at a time (200 views), then drives N concurrent sessions.
`ws` sessions speak Streamlit's own websocket protocol (what the browser
sends: a new session and a rerun request, then every ForwardMsg until the run
finishes), so the figures are the server's; `browser` sessions are Chromium
pages, which on a 2-core machine mostly measure Chromium itself. Reports page
loads per second, median and p95 time until the four KPIs arrive, errors,
the peak number of PostgreSQL connections the app held, and the number of
dashboard queries the database ran (from pg_stat_database transactions;
reads are autocommit, so one read = one transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import threading
import time

import psycopg

from db import embedded
from db.migrate import migrate
from db.settings import ROOT

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


RERUNS = [0]  # runs the server cut short for a rerun, over the whole drive


def positive(kind):
    """An argparse type: a number above zero, else a usage error."""

    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero, not {text}")
        return value

    return parse


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def prepare(pgdata, users: int, posts: int) -> str:
    url = embedded.ensure_database(embedded.start(pgdata, log=lambda m: None), "cruddur")
    migrate(url, log=lambda m: None)
    with psycopg.connect(url) as conn:
        have = conn.execute("SELECT count(*) FROM activities").fetchone()[0]
        if have != posts:
            from seed import generate

            conn.execute("TRUNCATE users, activities")
            result = generate(conn, users=users, posts=posts, days=90, seed=42)
            print(f"loaded {users:,} users and {posts:,} posts at {result.rows_per_second:,.0f} rows/s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


class ConnectionSampler(threading.Thread):
    """Samples how many backends the app holds (application_name cruddur-dashboard:%)."""

    def __init__(self, server_url: str) -> None:
        super().__init__(daemon=True)
        self.server_url, self.peak, self.stop = server_url, 0, threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            while not self.stop.is_set():
                n = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'cruddur-dashboard:%%'"
                ).fetchone()[0]
                self.peak = max(self.peak, n)
                time.sleep(0.2)


def transactions(server_url: str, dbname: str) -> int:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        return conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %(d)s", {"d": dbname}
        ).fetchone()[0]


async def session_loop(browser, base: str, until: float, times: list[float], errors: list[str]) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            await page.goto(base, wait_until="commit")
            await page.get_by_test_id("stMetricValue").first.wait_for(timeout=30_000)
            times.append(time.monotonic() - started)
            if (
                await page.get_by_test_id("stException").count()
                or await page.get_by_test_id("stAlertContentError").count()
            ):
                errors.append("error element on page")
        except Exception as exc:  # noqa: BLE001 - a benchmark records every failure
            errors.append(type(exc).__name__)
    await context.close()


async def ws_page_load(port: int) -> float:
    """One page load over the websocket: seconds until the 4th KPI card arrives.
    Reads on to the end of the run so the server's work is all counted."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    started = time.monotonic()
    kpis_at = None
    metrics = 0
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None, open_timeout=30
    ) as ws:
        request = BackMsg()
        request.rerun_script.query_string = ""
        request.rerun_script.page_script_hash = ""
        await ws.send(request.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), 30))
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element.WhichOneof("type")
                if element == "metric":
                    metrics += 1
                    if metrics == 4:
                        kpis_at = time.monotonic() - started
                elif element == "exception" or (element == "alert" and msg.delta.new_element.alert.format == 1):
                    raise RuntimeError("error element on page")
            # A run cut short for a rerun (FINISHED_EARLY_FOR_RERUN) is followed by the
            # rerun, as the browser sees it: read on until a run finishes.
            if kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                break
            if kind == "script_finished":
                RERUNS[0] += 1
    if kpis_at is None:
        raise RuntimeError("no KPIs")
    return kpis_at


async def server_cpu_per_view(port: int, pid: int, views: int = 200) -> float:
    """Milliseconds of the server's CPU per Growth view, one session after another
    (nothing else running): what each view costs it, apart from any queueing."""
    from bench.harness import process_cpu_s

    for _ in range(10):
        await ws_page_load(port)
    before = process_cpu_s(pid)
    for _ in range(views):
        await ws_page_load(port)
    return (process_cpu_s(pid) - before) * 1000 / views


async def ws_loop(port: int, until: float, times: list[float], errors: list[str]) -> None:
    while time.monotonic() < until:
        try:
            times.append(await ws_page_load(port))
        except Exception as exc:  # noqa: BLE001 - a benchmark records every failure
            errors.append(f"{type(exc).__name__}: {exc}"[:80])


async def drive_ws(port: int, sessions: int, seconds: float) -> tuple[list[float], list[str], float]:
    times: list[float] = []
    errors: list[str] = []
    started = time.monotonic()
    await asyncio.gather(*(ws_loop(port, started + seconds, times, errors) for _ in range(sessions)))
    return times, errors, time.monotonic() - started


async def drive(base: str, sessions: int, seconds: float) -> tuple[list[float], list[str], float]:
    from playwright.async_api import async_playwright

    times: list[float] = []
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        started = time.monotonic()
        await asyncio.gather(*(session_loop(browser, base, started + seconds, times, errors) for _ in range(sessions)))
        elapsed = time.monotonic() - started
        await browser.close()
    return times, errors, elapsed


def first_visit(base: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(painted, seen, the browser's part) for the first visitor of the freshly started server, then for a reload."""
    from bench.first_visit import visit  # there: how "painted" and "seen" are measured

    first, again = asyncio.run(visit(base, reloads=1))
    return first, again[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=positive(int), default=25)
    parser.add_argument("--seconds", type=positive(float), default=60)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--ttl", type=int, default=60)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--client", choices=["ws", "browser"], default="ws")
    args = parser.parse_args(argv)

    import sys

    from tests.browser import free_port  # the same launcher the browser tests use

    pgdata = ROOT / ".data" / "bench-load" / "pg"
    url = prepare(pgdata, args.users, args.posts)
    server_url = embedded.with_database(url, "postgres")
    port = free_port()
    env = {**os.environ, "CONNECTION_URL": url, "CACHE_TTL": str(args.ttl), "POOL_MAX_SIZE": str(args.pool)}
    cmd = [sys.executable, str(ROOT / "serve.py")]
    env.update(PORT=str(port))
    from bench.harness import start_app, stop_app, wait_until_up, warm_up

    app = start_app(cmd, env)
    try:
        wait_until_up(port, app)
        warm_up(port)
        base = f"http://127.0.0.1:{port}"
        first, reload = first_visit(base)
        from bench.harness import cpu_times, server_pid, steal_share

        per_view_ms = asyncio.run(server_cpu_per_view(port, server_pid(app)))
        cpu_before = cpu_times()
        sampler = ConnectionSampler(server_url)
        before = transactions(server_url, "cruddur")
        sampler.start()
        if args.client == "ws":
            times, errors, elapsed = asyncio.run(drive_ws(port, args.sessions, args.seconds))
        else:
            times, errors, elapsed = asyncio.run(drive(base, args.sessions, args.seconds))
        sampler.stop.set()
        sampler.join()
        queries = transactions(server_url, "cruddur") - before
        steal = steal_share(cpu_before, cpu_times())
    finally:
        stop_app(app)
        embedded.stop(pgdata)

    ttl_windows = max(1, -(-elapsed // args.ttl)) if args.ttl > 0 else None
    print()
    print(
        f"| measure ({args.posts:,} posts, {args.sessions} {args.client} sessions, {elapsed:.0f} s, "
        f"CACHE_TTL={args.ttl}) | value |"
    )
    print("|---|---|")
    print(f"| first visit after start: KPIs painted (seen by polling) | {first[0]:.2f} s ({first[1]:.2f} s) |")
    print(f"| reload: KPIs painted (seen by polling) | {reload[0]:.2f} s ({reload[1]:.2f} s) |")
    print(f"| server CPU per Growth view, one session at a time | {per_view_ms:.1f} ms |")
    print(f"| page loads | {len(times):,} ({len(times) / elapsed:.1f} per second) |")
    if times:
        print(f"| time to the four KPIs, median / p95 | {statistics.median(times):.2f} s / {p95(times):.2f} s |")
    print(f"| CPU steal by the hypervisor during the sessions | {steal:.0%} |")
    print(f"| runs cut short for a rerun (the KPIs then came from the rerun) | {RERUNS[0]} |")
    print(f"| errors | {len(errors)}{' ' + str(sorted(set(errors))) if errors else ''} |")
    print(
        f"| peak PostgreSQL connections held by the app | {sampler.peak} "
        f"(pool max {args.pool} reader + {max(2, args.pool // 2)} writer) |"
    )
    if ttl_windows:
        print(f"| database transactions during the run | {queries} over {int(ttl_windows)} TTL window(s) |")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
