"""Engagement page at scale: its database time cold and warm vs the plain SQL a Metabase user writes.

    python -m bench engagement --posts 1000000 --posts 10000000 [--days 730] [--tz UTC]

For each size: a fresh database on a dedicated embedded server (under
BENCH_DATA_DIR, a temporary directory by default: never the app's .data/),
filled by the seed generator (users = posts / 10, over --days days, with
lifetimes), vacuumed and analysed, the engagement state brought up to date
when it exists. Then, in this process, per page load of the default view
(last 90 days, active users per day, weekly cohorts):

  (a) plain SQL      bench/sql/metabase_*.sql: DAU/WAU/MAU with a correlated
                     count per day, the usual cohort query and a self-join for
                     the lifecycle, on a connection with the server's defaults
  (b) ours, cold     the page's reads (queries.engagement) with the result cache cleared
  (c) ours, warm     the same with the cache filled

and the render time of the Engagement and Growth pages through AppTest (cache
cold). "db ms" is time in database calls per page load; medians and p95.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench import BENCH_SQL, harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = {
    "Engagement": os.path.join(ROOT, "pages", "engagement.py"),
    "Growth": os.path.join(ROOT, "pages", "growth.py"),
}
PLAIN = ("metabase_active", "metabase_retention", "metabase_lifecycle")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def prepare(server_url: str, posts: int, days: int) -> tuple[str, dict]:
    from seed import generate
    from seed.progress import ProgressBar

    url = harness.fresh_database(server_url, f"bench_engagement_{posts}")
    users = max(1, posts // 10)
    with psycopg.connect(url) as conn, conn.transaction():
        result = generate(
            conn, users=users, posts=posts, days=days, seed=42, progress=ProgressBar(f"[bench] generate {posts:,}")
        )
    started = time.perf_counter()
    harness.vacuum_analyze(url)
    os.environ["CONNECTION_URL"] = url
    load = {"users": users, "posts": posts, "rows_per_s": result.rows_per_second, "load_s": result.seconds}
    load["vacuum_s"] = time.perf_counter() - started
    load["state_s"] = _bring_state_up_to_date()
    log(f"loaded {users + posts:,} rows in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s)")
    return url, load


def _bring_state_up_to_date() -> float | None:
    """Build the engagement state where this checkout has one (actions/engagement.py)."""
    try:
        from actions import engagement as state
    except ImportError:
        return None
    started = time.perf_counter()
    state.refresh_all(wait_s=60)
    return time.perf_counter() - started


class DatabaseTime:
    """Every database read of the process adds its time here (queries.reads reports each
    to stats.database_read): the page's database time, its state lookup included."""

    def __init__(self) -> None:
        from queries import reads

        self.ms = 0.0
        self.names: list[str] = []
        self.per_read: dict[str, list[float]] = {}  # every load's time per statement, for the log
        original = reads.stats.database_read

        def recorded(name: str, db_ms: float) -> None:
            self.ms += db_ms
            self.names.append(name)
            self.per_read.setdefault(name, []).append(db_ms)
            original(name, db_ms)

        reads.stats.database_read = recorded  # type: ignore[method-assign]


def page_reads(tz: str, cold: bool, clock: DatabaseTime):
    """The reads of one Engagement page view in its default state; returns their database ms."""
    from queries import engagement, reads
    from queries.explore import resolve_range

    def load() -> float:
        if cold:
            reads.clear_cache()
        clock.ms, clock.names = 0.0, []
        rng = resolve_range("last_90_days", tz=tz)
        engagement.table("active", rng=engagement.kpi_range(rng), granularity="day", tz=tz)
        engagement.table("retention", rng=rng, granularity="week", tz=tz)
        engagement.table("lifecycle", rng=rng, granularity="week", tz=tz)
        engagement.excluded(rng=rng, granularity="week", tz=tz)
        return clock.ms

    return load


def plain(url: str, tz: str):
    from queries import catalog
    from queries.explore import today_in

    conn = psycopg.connect(url, autocommit=True)

    def load() -> float:
        today = today_in(tz)
        params = {"tz": tz, "start_day": today - timedelta(days=89), "end_day": today}
        started = time.perf_counter()
        for name in PLAIN:
            conn.execute(catalog.text(name, BENCH_SQL), params).fetchall()
        return (time.perf_counter() - started) * 1000

    return load, conn


def same_answers(url: str, tz: str) -> None:
    """The plain DAU and ours agree before anything is timed (seed data has no orphans)."""
    from queries import catalog, engagement, reads
    from queries.explore import resolve_range, today_in

    reads.clear_cache()
    rng = resolve_range("last_90_days", tz=tz)
    ours = engagement.table("active", rng=rng, granularity="day", tz=tz).frame
    today = today_in(tz)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            catalog.text("metabase_active", BENCH_SQL),
            {"tz": tz, "start_day": today - timedelta(days=89), "end_day": today},
        ).fetchall()
    assert [int(r[1]) for r in rows] == ours["active_users"].tolist(), "DAU differs from the plain query"
    assert [int(r[3]) for r in rows] == ours["mau"].tolist(), "MAU differs from the plain query"


def render(page: str, loads: int, tz: str) -> list[float]:
    from streamlit.testing.v1 import AppTest

    from queries import reads

    out = []
    for i in range(loads + 1):
        at = AppTest.from_file(page, default_timeout=300)
        at.session_state["report_tz"] = tz
        reads.clear_cache()
        started = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - started) * 1000
        if at.exception or at.error:
            raise SystemExit(f"page failed: {[e.value for e in at.exception] or [e.value for e in at.error]}")
        if i:
            out.append(elapsed)
    return out


def run_size(server_url: str, posts: int, days: int, loads: int, slow_loads: int, tz: str) -> dict:
    url, load = prepare(server_url, posts, days)
    same_answers(url, tz)
    results: dict[str, tuple[float, float]] = {}
    plain_load, conn = plain(url, tz)
    try:
        plain_load()
        results["(a) plain SQL"] = harness.median_p95([plain_load() for _ in range(slow_loads)])
    finally:
        conn.close()
    clock = DatabaseTime()
    for name, cold in (("(b) ours, cold", True), ("(c) ours, warm", False)):
        load_once = page_reads(tz, cold, clock)
        load_once()
        clock.per_read = {}
        results[name] = harness.median_p95([load_once() for _ in range(loads)])
        log(f"{name} reads: {', '.join(clock.names) or 'none (all cached)'}")
        for read, times in clock.per_read.items():
            log(f"  {read}: median {harness.median_p95(times)[0]:,.1f} ms")
    for label, (median, _) in results.items():
        log(f"{posts:,} {label}: db median {median:,.1f} ms")
    renders = {name: harness.median_p95(render(page, max(3, loads // 3), tz)) for name, page in PAGES.items()}
    return {"posts": posts, "load": load, "results": results, "renders": renders}


def report(machine: str, version: str, runs: list[dict], tz: str, days: int) -> str:
    lines = [f"Machine: {machine}; {version} (embedded). Zone {tz}; data over {days} days.", ""]
    for run in runs:
        load = run["load"]
        state = f", engagement state built in {load['state_s']:.1f} s" if load.get("state_s") else ""
        lines += [
            f"**{run['posts']:,} posts, {load['users']:,} users**: generator {load['rows_per_s']:,.0f} rows/s{state}",
            "",
            "| way | db ms median | db ms p95 | vs plain |",
            "|---|---:|---:|---:|",
        ]
        base = run["results"]["(a) plain SQL"][0]
        for way, (median, p95) in run["results"].items():
            ratio = f"{base / median:,.1f}× less" if median > 0 else "no db call"
            lines.append(f"| {way} | {median:,.1f} | {p95:,.1f} | {ratio} |")
        lines += ["", "| page (AppTest, cache cold) | render ms median | p95 |", "|---|---:|---:|"]
        for name, (median, p95) in run["renders"].items():
            lines.append(f"| {name} | {median:,.0f} | {p95:,.0f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench engagement", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, action="append", help="posts to generate (repeatable); default 1,000,000")
    parser.add_argument("--days", type=int, default=730, help="days of history (default 730: two years)")
    parser.add_argument("--tz", default="UTC", help="report time zone (default UTC)")
    parser.add_argument("--loads", type=int, default=15, help="page loads per way (default 15)")
    parser.add_argument("--slow-loads", type=int, default=3, help="loads of the plain SQL (default 3)")
    parser.add_argument("--keep", action="store_true", help="leave the embedded server running")
    args = parser.parse_args(argv)
    os.environ.setdefault("BENCH", "1")
    os.environ.setdefault("BENCH_DATA_DIR", tempfile.mkdtemp(prefix="cruddur-bench-engagement-"))
    os.environ.setdefault("STATEMENT_TIMEOUT_MS", "600000")  # the plain SQL runs for minutes at 10M
    log(f"data in {os.environ['BENCH_DATA_DIR']}; started {datetime.now(UTC):%H:%M:%S} UTC")
    server_url = harness.start_server(log=log)
    try:
        machine, version = harness.machine(), harness.server_version(server_url)
        runs = [
            run_size(server_url, posts, args.days, args.loads, args.slow_loads, args.tz)
            for posts in (args.posts or [1_000_000])
        ]
        print(report(machine, version, runs, args.tz, args.days))
    finally:
        from db import pool

        pool.close_all()
        if not args.keep:
            harness.stop_server()
    return 0
