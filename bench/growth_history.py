"""Growth database time across history lengths: ours vs the original SQL with our indexes vs as it ran.
(Long because loading, the operator's rebuild, the fresh-process page and the report belong to one run.)

    python -m bench growth_history [--posts 10000000] [--history 90d --history 2y --history 10y] [--repeat 5]
    (also: python -m bench growth --history 2y ...)

For each history length, one database on a dedicated embedded server (under
BENCH_DATA_DIR, pg_stat_statements loaded with track_planning): `--posts` posts
and posts/10 users loaded in SQL over that span, denser towards today
(bench/sql/history_*.sql), VACUUM ANALYZE. A database of the same size and
span left by an earlier run is reused (--fresh to rebuild).

Each round, in this order:
  rebuild   `python -m db rollup --rebuild` in a process of its own, as an operator runs it
  (a) ours  a fresh Python process: its result cache is empty; it opens its pool
            (not counted: a new reader connection prepares a first page's
            statements then, runs the generic ones once and plans the others,
            see db.statements.plan_on_connect), then computes the Growth page's answer
            once (queries.growth.growth); then, its result cache emptied, once
            more on the same connection, as every page of a running server is
            answered; then, for comparison, runs the Growth statement on a new
            connection outside the pool, which nobody warmed
  (b) the original SQL with our indexes (bench/sql/original_*.sql)
  (c) the original SQL as it ran: the same, planned without indexes

A page's database time is PostgreSQL's own planning + execution time of every
statement the page ran (pg_stat_statements, reset before each page). For (a)
the time the page itself measured around its reads (pool checkout, round
trips, fetch) is reported as well.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from bench import BENCH_SQL, harness
from db import embedded, statements

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPANS = {"d": 1, "y": 365}
CHUNK = 1_000_000
PSS = "SELECT pg_stat_statements_reset()"
DB_TIME = """
SELECT coalesce(sum(total_plan_time + total_exec_time), 0), coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0)
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = current_database() AND s.query NOT ILIKE '%%pg_stat_statements%%'
"""


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def days_of(label: str) -> int:
    match = re.fullmatch(r"(\d+)([dy])", label)
    if not match:
        raise SystemExit(f"--history {label!r}: give days or years, like 90d or 2y")
    return int(match.group(1)) * SPANS[match.group(2)]


def with_statements(server_url: str) -> str:
    """Load pg_stat_statements (planning tracked) into the bench server; restarts it once."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        loaded = conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if "pg_stat_statements" not in loaded:
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            conn.execute("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
            restart = True
        else:
            restart = False
    if restart:
        harness.stop_server()
        server_url = harness.start_server(log=log)
    return server_url


def _count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def load(url: str, posts: int, days: int, label: str = "") -> float:
    """`posts` posts and posts/10 users over the last `days` days, in SQL; VACUUM ANALYZE. Seconds."""
    users = max(1, posts // 10)
    stop = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    start = stop - timedelta(days=days)
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT setseed(0.42)")
        statements.execute(conn, "history_users", allow="admin", directory=BENCH_SQL, n=users, start=start, stop=stop)
        for done in range(0, posts, CHUNK):
            n = min(CHUNK, posts - done)
            statements.execute(conn, "history_posts", allow="admin", directory=BENCH_SQL, n=n, start=start, stop=stop)
            log(f"{label or f'{days} days'}: {done + n:,} of {posts:,} posts")
    seconds = time.perf_counter() - started
    log(f"{label or f'{days} days'}: loaded {users + posts:,} rows in {seconds:.0f} s")
    harness.vacuum_analyze(url)
    return seconds


def prepare(server_url: str, posts: int, label: str, fresh: bool) -> tuple[str, dict]:
    name = f"bench_history_{posts}_{label}"
    users = max(1, posts // 10)
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    url = embedded.with_database(server_url, name)
    if exists and not fresh and _count(url, "activities") == posts and _count(url, "users") == users:
        log(f"{label}: reusing {name}")
        from db.migrate import migrate

        migrate(url, log=lambda m: None)  # a newer migration reaches the kept database
    else:
        url = harness.fresh_database(server_url, name)
        load(url, posts, days_of(label), label=label)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return url, {"name": name, "users": users, "posts": posts, "days": days_of(label)}


def rebuild(url: str) -> float:
    """`python -m db rollup --rebuild`, as an operator runs it; seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "db", "rollup", "--rebuild"],
        cwd=ROOT,
        env={**os.environ, "CONNECTION_URL": url},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"rollup rebuild failed: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - started


def page_in_fresh_process(url: str, tz: str) -> dict:
    """(a): one Growth answer in a new interpreter (see _page)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.growth_history", "--page", tz],
        cwd=ROOT,
        env={**os.environ, "CONNECTION_URL": url, "BENCH": "1"},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"page process failed: {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _page(tz: str) -> None:
    """Inside the fresh process: open the reader pool, reset the statistics, answer once, report."""
    from db.settings import get_settings
    from queries.growth import growth
    from queries.reads import clear_cache, fetch

    fetch("admin.ping")
    url = get_settings().require_url()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(PSS)
        answer = growth(tz=tz)
        server_ms, calls, exec_ms = conn.execute(DB_TIME).fetchone()
        # The same page again in this process, its result cache emptied, on the
        # pool's connection, as every page of a running server is answered.
        clear_cache()
        conn.execute(PSS)
        again = growth(tz=tz)
        warm_ms = conn.execute(DB_TIME).fetchone()[0]
    assert again.totals == answer.totals and not again.from_cache
    # For comparison, the statement on a connection nobody planned it on (not the pool's).
    with psycopg.connect(url, autocommit=True) as conn, psycopg.connect(url, autocommit=True) as bare:
        conn.execute(PSS)
        statements.execute(bare, "growth_summary", tz=tz).fetchall()
        unwarmed_ms = conn.execute(DB_TIME).fetchone()[0]
    print(
        json.dumps(
            {
                "server_ms": float(server_ms),
                "exec_ms": float(exec_ms),
                "warm_ms": float(warm_ms),
                "unwarmed_ms": float(unwarmed_ms),
                "calls": int(calls),
                "page_ms": answer.db_ms,
                "rolled_up": answer.rolled_up,
                "totals": answer.totals,
            }
        )
    )


def original_page(url: str, conn: psycopg.Connection, indexes: bool) -> tuple[float, dict]:
    from bench import baselines

    conn.execute(PSS)
    answer, _ = baselines.original(url, indexes=indexes)
    server_ms = conn.execute(DB_TIME).fetchone()[0]
    return float(server_ms), answer.totals


def run_history(server_url: str, posts: int, label: str, repeat: int, tz: str, fresh: bool) -> dict:
    url, info = prepare(server_url, posts, label, fresh)
    ours, page, with_idx, no_idx, rebuilds, executing, warm, unwarmed = [], [], [], [], [], [], [], []
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(repeat):
            rebuilds.append(rebuild(url))
            mine = page_in_fresh_process(url, tz)
            if not mine["rolled_up"]:
                raise SystemExit("the page did not answer from the rollup")
            b, totals_b = original_page(url, conn, indexes=True)
            c, totals_c = original_page(url, conn, indexes=False)
            if not (mine["totals"] == totals_b == totals_c):
                raise SystemExit(f"answers differ: ours {mine['totals']}, original {totals_b} / {totals_c}")
            ours.append(mine["server_ms"])
            executing.append(mine["exec_ms"])
            warm.append(mine["warm_ms"])
            unwarmed.append(mine["unwarmed_ms"])
            page.append(mine["page_ms"])
            with_idx.append(b)
            no_idx.append(c)
            log(f"{label} round {i + 1}: ours {mine['server_ms']:.2f} ms, original {b:.1f} ms, as it ran {c:.1f} ms")
    med = harness.median_p95
    return {
        **info,
        "label": label,
        "ours": med(ours)[0],
        "exec": med(executing)[0],
        "warm": med(warm)[0],
        "unwarmed": med(unwarmed)[0],
        "page": med(page)[0],
        "with_indexes": med(with_idx)[0],
        "no_index": med(no_idx)[0],
        "rebuild_s": med(rebuilds)[0],
    }


def report(machine: str, version: str, tz: str, repeat: int, runs: list[dict], steal: float) -> str:
    lines = [
        f"Machine: {machine}; {version} (embedded); report zone {tz}; CPU steal {steal:.0%}. "
        f"Medians of {repeat} rounds; each round right after `python -m db rollup --rebuild`.",
        "",
        "| history | posts | ours: planning + execution, first page | of which execution "
        "| ours: next page, same connection | the statement on a connection nobody warmed "
        "| ours: as the page timed it "
        "| original SQL with our indexes | original SQL as it ran | with indexes / ours | as it ran / ours |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r['label']} | {r['posts']:,} | {r['ours']:.2f} ms | {r['exec']:.2f} ms | {r['warm']:.2f} ms "
            f"| {r['unwarmed']:.2f} ms | {r['page']:.2f} ms | {r['with_indexes']:,.1f} ms "
            f"| {r['no_index']:,.1f} ms | {r['with_indexes'] / r['ours']:,.0f}× | {r['no_index'] / r['ours']:,.0f}× |"
        )
    spread = max(r["ours"] for r in runs) / min(r["ours"] for r in runs) - 1
    lines += ["", f"Ours, longest vs shortest history: {spread:+.0%} (rollup rebuild median per history: "]
    lines[-1] += ", ".join(f"{r['label']} {r['rebuild_s']:.1f} s" for r in runs) + ")"
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench growth_history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000_000, help="posts (users = posts / 10); default 10M")
    parser.add_argument("--history", action="append", help="span of the data: 90d, 2y, 10y (repeatable; default all)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per history (default 5)")
    parser.add_argument("--tz", default="UTC", help="report time zone (default UTC)")
    parser.add_argument("--fresh", action="store_true", help="reload even if a database of this size exists")
    parser.add_argument("--keep", action="store_true", help="leave the embedded server running")
    parser.add_argument("--page", help=argparse.SUPPRESS)  # the fresh process of (a)
    args = parser.parse_args(argv)
    if args.page:
        _page(args.page)
        return 0
    os.environ.setdefault("BENCH", "1")
    labels = args.history or ["90d", "2y", "10y"]
    for label in labels:
        days_of(label)
    server_url = with_statements(harness.start_server(log=log))
    try:
        before = harness.cpu_times()
        runs = [run_history(server_url, args.posts, label, args.repeat, args.tz, args.fresh) for label in labels]
        steal = harness.steal_share(before, harness.cpu_times())
        print(report(harness.machine(), harness.server_version(server_url), args.tz, args.repeat, runs, steal))
    finally:
        from bench import baselines

        for conn in baselines._original.values():
            conn.close()
        if not args.keep:
            harness.stop_server()
    return 0


if __name__ == "__main__":
    sys.exit(main())
