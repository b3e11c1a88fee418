"""Growth page at scale: the original way vs st.connection vs ours (cold and warm), side by side.

    python -m bench growth --rows 1000000 --rows 10000000
    python -m bench growth --history 90d --history 2y --history 10y [--posts N --repeat R]   (bench growth_history)

For each size: a fresh database on a dedicated embedded server, filled by the
seed generator (posts = rows, users = rows / 10, over 90 days; load rate
reported), vacuumed and analysed, the rollup brought up to date. Then, in this
one process and on that one database, per page load:

  (a) original       whole-table counts, per-day grouping without an index, JSON-wrapped
  (b) st.connection  Streamlit's SQLConnection over SQLAlchemy, our live queries, cache cleared
  (c) ours cold      queries.growth.growth() with the result cache cleared
  (d) ours warm      the same with the cache filled
  (e) ours cold, Momento unreachable   (c) with MOMENTO_API_KEY set and an endpoint that does not resolve

"db ms": time spent in database calls per page load; "render ms": the whole
page through Streamlit's AppTest. PostgreSQL's buffers are warm for everyone.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from contextlib import contextmanager

import psycopg

from bench import baselines, harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUR_PAGE = os.path.join(ROOT, "pages", "growth.py")
BASELINE_PAGE = os.path.join(ROOT, "bench", "_baseline_page.py")


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def prepare(server_url: str, rows: int) -> tuple[str, dict]:
    from actions import rollup
    from seed import generate
    from seed.progress import ProgressBar

    name = f"bench_growth_{rows}"
    url = harness.fresh_database(server_url, name)
    users = max(1, rows // 10)
    with psycopg.connect(url) as conn, conn.transaction():
        result = generate(
            conn, users=users, posts=rows, days=90, seed=42, progress=ProgressBar(f"[bench] generate {rows:,}")
        )
    started = time.perf_counter()
    harness.vacuum_analyze(url)
    vacuum_s = time.perf_counter() - started
    os.environ["CONNECTION_URL"] = url
    started = time.perf_counter()
    marks = rollup.refresh(wait_s=30)
    rollup_s = time.perf_counter() - started
    if marks is None:
        raise SystemExit("the rollup could not be brought up to date")
    load = {
        "users": users,
        "posts": rows,
        "rows_per_s": result.rows_per_second,
        "load_s": result.seconds,
        "vacuum_s": vacuum_s,
        "rollup_build_s": rollup_s,
    }
    log(
        f"loaded {users + rows:,} rows in {result.seconds:.1f} s ({result.rows_per_second:,.0f} rows/s); "
        f"vacuum+analyze {vacuum_s:.1f} s; rollup built in {rollup_s:.1f} s"
    )
    return url, load


@contextmanager
def momento_unreachable():
    """MOMENTO_API_KEY set (a well-formed v2 key) with an endpoint that does not resolve."""
    import jwt

    saved = {k: os.environ.get(k) for k in ("MOMENTO_API_KEY", "MOMENTO_ENDPOINT")}
    os.environ["MOMENTO_API_KEY"] = jwt.encode({"t": "g"}, "bench-only-not-a-secret", algorithm="HS256")
    os.environ["MOMENTO_ENDPOINT"] = "momento-unreachable.invalid"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ours(cold: bool):
    from queries import reads
    from queries.growth import growth

    def load():
        if cold:
            reads.clear_cache()
        data = growth(tz="UTC")
        return data, data.db_ms / 1000

    return load


def measure_data(load, loads: int) -> list[float]:
    load()  # connections open, plans cached: only the result cache is cold
    return [load()[1] * 1000 for _ in range(loads)]


def measure_render(page: str, loads: int, before=None, session: dict | None = None) -> list[float]:
    from streamlit.testing.v1 import AppTest

    out = []
    for i in range(loads + 1):
        at = AppTest.from_file(page, default_timeout=120)
        for k, v in (session or {}).items():
            at.session_state[k] = v
        if before:
            before()
        started = time.perf_counter()
        at.run()
        elapsed = (time.perf_counter() - started) * 1000
        if at.exception or at.error:
            raise SystemExit(f"page failed: {[e.value for e in at.exception] or [e.value for e in at.error]}")
        if i:  # the first run imports and warms up
            out.append(elapsed)
    return out


def same_answers(url: str) -> None:
    """Every way must show the same numbers before any is timed."""
    from queries import reads
    from queries.growth import growth

    reads.clear_cache()
    mine = growth(tz="UTC")
    for name, loader in baselines.LOADERS.items():
        theirs, _ = loader(url)
        assert theirs.totals == mine.totals, (name, theirs.totals, mine.totals)
        for kind in ("users", "posts"):
            assert list(theirs.per_day[kind]["count"]) == list(mine.per_day[kind]["count"]), (name, kind)
            assert theirs.weekly[kind].current == mine.weekly[kind].current, (name, kind)


def run_size(server_url: str, rows: int, loads: int, slow_loads: int) -> dict:
    import streamlit as st

    from queries import reads

    url, load = prepare(server_url, rows)
    same_answers(url)
    results = {}

    def record(way, db, render):
        results[way] = {"db": harness.median_p95(db), "render": harness.median_p95(render)}
        log(
            f"{rows:,} {way}: db median {results[way]['db'][0]:.1f} ms, "
            f"render median {results[way]['render'][0]:.0f} ms"
        )

    record(
        "(a) original",
        measure_data(lambda: baselines.original(url), slow_loads),
        measure_render(BASELINE_PAGE, slow_loads, session={"bench_way": "original"}),
    )

    def st_clear():
        # SQLConnection.query leaves each SQLAlchemy connection to the garbage
        # collector; without a collection 15 cold queries exhaust its pool.
        gc.collect()
        st.cache_data.clear()

    def st_cold():
        st_clear()
        return baselines.st_connection(url)

    record(
        "(b) st.connection, cold",
        measure_data(st_cold, loads),
        measure_render(BASELINE_PAGE, loads, before=st_clear, session={"bench_way": "st_connection"}),
    )
    record(
        "(c) ours, cold",
        measure_data(ours(cold=True), loads),
        measure_render(OUR_PAGE, loads, before=reads.clear_cache),
    )
    reads.clear_cache()
    record("(d) ours, warm", measure_data(ours(cold=False), loads), measure_render(OUR_PAGE, loads))
    with momento_unreachable():
        record(
            "(e) ours, cold, Momento unreachable",
            measure_data(ours(cold=True), loads),
            measure_render(OUR_PAGE, loads, before=reads.clear_cache),
        )
        info = reads.cache_info()
        results["(e) ours, cold, Momento unreachable"]["backend"] = (info["backend"], info["backend_counts"])
    return {"rows": rows, "load": load, "results": results}


def report(machine: str, version: str, runs: list[dict]) -> str:
    lines = [f"Machine: {machine}; {version} (embedded). Medians and p95 over repeated page loads in one process.", ""]
    for run in runs:
        load = run["load"]
        lines += [
            f"**{run['rows']:,} activities** ({load['users']:,} users): generator {load['rows_per_s']:,.0f} rows/s "
            f"({load['load_s']:.1f} s), rollup built in {load['rollup_build_s']:.1f} s",
            "",
            "| way | db ms median | db ms p95 | render ms median | render ms p95 "
            "| db: original / way | render: original / way |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        base = run["results"]["(a) original"]
        for way, r in run["results"].items():
            db_ratio = f"{base['db'][0] / r['db'][0]:,.0f}×" if r["db"][0] > 0 else "no db call"
            lines.append(
                f"| {way} | {r['db'][0]:,.2f} | {r['db'][1]:,.2f} | {r['render'][0]:,.0f} | {r['render'][1]:,.0f} "
                f"| {db_ratio} | {base['render'][0] / r['render'][0]:,.1f}× |"
            )
        e, c = run["results"]["(e) ours, cold, Momento unreachable"], run["results"]["(c) ours, cold"]
        lines += [
            "",
            f"Momento unreachable vs no Momento, cold render median: {e['render'][0] - c['render'][0]:+.0f} ms "
            f"(backend {e['backend'][0]}, counters {e['backend'][1]})",
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench growth", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, action="append", help="activities to generate (repeatable); default 1,000,000"
    )
    parser.add_argument("--loads", type=int, default=30, help="page loads per way (default 30)")
    parser.add_argument("--slow-loads", type=int, default=10, help="page loads for the original way (default 10)")
    parser.add_argument("--keep", action="store_true", help="leave the embedded server running")
    parser.add_argument(
        "--history", action="append", help="the history-length axis instead (90d, 2y, 10y): bench growth_history"
    )
    args, rest = parser.parse_known_args(argv)
    if args.history:
        from bench import growth_history

        return growth_history.main([*(f"--history={h}" for h in args.history), *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    os.environ.setdefault("BENCH", "1")
    server_url = harness.start_server(log=log)
    try:
        machine = harness.machine()
        version = harness.server_version(server_url)
        runs = [run_size(server_url, rows, args.loads, args.slow_loads) for rows in (args.rows or [1_000_000])]
        print(report(machine, version, runs))
    finally:
        from db import pool

        pool.close_all()
        for conn in baselines._original.values():
            conn.close()
        if not args.keep:
            harness.stop_server()
    return 0
