"""Growth page database time with and without the messages statements (issue 14 target: within 1 ms).
(Long because loading 10M messages consistently, the alternating measurement and the
per-statement breakdown belong to one run.)

    python -m bench growth_messages [--posts 10000000 --messages 10000000 --repeat 15]

One database on a dedicated embedded server (under BENCH_DATA_DIR): posts and
users loaded in SQL as bench growth_history loads them (users = posts / 10,
over 90 days, rollup brought up to date), and messages written straight in
SQL: message_events from generate_series (recent days busier, 10 messages a
conversation on average), then message_groups as min(sent_at) per group and
message_counts as count(*) per date_bin('15 minutes', sent_at, '2000-01-01'),
so the three tables agree exactly as the Lambda keeps them (checked). Then
VACUUM ANALYZE. A database of the same sizes left by an earlier run is reused
(--fresh to rebuild).

Measured in one process, per report zone (UTC, Asia/Kathmandu), alternating
(a) and (b) every round, with the order inside the round swapped each time:

  (a) growth_summary alone                       (the Growth page without messages)
  (b) growth_summary + messages_summary          (with messages: one statement answers
                                                  the messages card and chart)

Each statement is timed as queries.reads times a cold read (reader pool
checkout, db.statements.execute, fetchall): the app's result cache plays no
part, PostgreSQL's buffers and the connection's plans are warm. The
difference is median(b) - median(a).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from bench import harness
from db import embedded

ZONES = ("UTC", "Asia/Kathmandu")
MESSAGES = ("messages_summary",)
GROWTH = "growth_summary"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _count(url: str, table: str) -> int | None:
    try:
        with psycopg.connect(url) as conn:
            return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
    except psycopg.Error:
        return None


def _exists(server_url: str, name: str) -> bool:
    with psycopg.connect(server_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def load_posts(url: str, posts: int) -> dict:
    """Posts and users over 90 days in SQL, as bench growth_history loads them."""
    from bench.growth_history import load

    users = max(1, posts // 10)
    seconds = load(url, posts, days=90)
    return {"users": users, "posts_s": seconds, "posts_rows_per_s": (users + posts) / seconds}


def load_messages(url: str, messages: int, days: int = 90, per_group: int = 10) -> float:
    """10M messages in SQL: the event rows without their indexes, the indexes rebuilt
    from their own definitions, then groups and quarter-hour counts derived from them."""
    groups = max(1, messages // per_group)
    senders = max(1, messages // 100)
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute("TRUNCATE public.message_events, public.message_groups, public.message_counts")
        pkey = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'public.message_events'::regclass AND contype = 'p'"
        ).fetchone()
        others = [
            r[0]
            for r in conn.execute(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = 'public.message_events'::regclass AND NOT i.indisprimary"
            ).fetchall()
        ]
        conn.execute(sql.SQL("ALTER TABLE public.message_events DROP CONSTRAINT {}").format(sql.Identifier(pkey[0])))
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = 'public.message_events'::regclass"
        ).fetchall():
            conn.execute(sql.SQL("DROP INDEX public.{}").format(sql.Identifier(name)))
        conn.execute("SELECT setseed(0.42)")
        # sqrt(random()) leans towards 1: density grows linearly towards now, so recent days are busier.
        conn.execute(
            """
            INSERT INTO public.message_events (message_uuid, message_group_uuid, sender_uuid, sent_at, recorded_at)
            SELECT * FROM (
                SELECT md5('m' || i)::uuid,
                       md5('g' || (i %% %(groups)s))::uuid,
                       md5('s' || ((i * 7919) %% %(senders)s))::uuid,
                       n.t - make_interval(secs => %(days)s * 86400 * (1 - sqrt(random()))) AS sent_at,
                       n.t
                FROM (SELECT date_trunc('second', now() AT TIME ZONE 'UTC') AS t) AS n,
                     generate_series(1::bigint, %(messages)s) AS i
            ) AS m
            ORDER BY sent_at  -- the order a stream delivers them in: the heap follows sent_at, as in production
            """,
            {"groups": groups, "senders": senders, "days": days, "messages": messages},
        )
        conn.execute(
            sql.SQL("ALTER TABLE public.message_events ADD CONSTRAINT {} {}").format(
                sql.Identifier(pkey[0]), sql.SQL(pkey[1])
            )
        )
        for definition in others:
            conn.execute(sql.SQL(definition))
        conn.execute(
            "INSERT INTO public.message_groups (message_group_uuid, started_at) "
            "SELECT message_group_uuid, min(sent_at) FROM public.message_events GROUP BY 1"
        )
        conn.execute(
            "INSERT INTO public.message_counts (bucket, messages) "
            "SELECT date_bin('15 minutes', sent_at, timestamp '2000-01-01'), count(*) "
            "FROM public.message_events GROUP BY 1"
        )
    seconds = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("message_events", "message_groups", "message_counts"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    log(f"messages: {messages:,} events, {groups:,} groups in {seconds:.1f} s ({messages / seconds:,.0f} rows/s)")
    return seconds


def check_consistent(url: str, messages: int) -> None:
    """The three tables agree exactly, as the handler keeps them."""
    with psycopg.connect(url) as conn:
        events, summed, bad_buckets, bad_groups = conn.execute(
            """
            SELECT (SELECT count(*) FROM public.message_events),
                   (SELECT sum(messages) FROM public.message_counts),
                   (SELECT count(*) FROM public.message_counts c FULL JOIN (
                        SELECT date_bin('15 minutes', sent_at, timestamp '2000-01-01') AS bucket, count(*) AS n
                        FROM public.message_events GROUP BY 1) e USING (bucket)
                    WHERE c.messages IS DISTINCT FROM e.n),
                   (SELECT count(*) FROM public.message_groups g FULL JOIN (
                        SELECT message_group_uuid, min(sent_at) AS s FROM public.message_events GROUP BY 1) e
                        USING (message_group_uuid)
                    WHERE g.started_at IS DISTINCT FROM e.s)
            """
        ).fetchone()
    assert events == messages == summed and bad_buckets == 0 and bad_groups == 0, (
        events,
        summed,
        bad_buckets,
        bad_groups,
    )


def prepare(server_url: str, posts: int, messages: int, fresh: bool) -> tuple[str, dict]:
    from actions import rollup

    name = f"bench_growth_messages_{posts}_{messages}"
    url = embedded.with_database(server_url, name)
    load: dict = {"posts": posts, "messages": messages, "reused": False}
    have_posts = not fresh and _exists(server_url, name) and _count(url, "activities") == posts
    if have_posts and _count(url, "message_events") == messages:
        load["reused"] = True
        load["users"] = _count(url, "users")
        log(f"reusing database {name}")
        from db.migrate import migrate

        migrate(url, log=lambda m: None)  # a newer migration reaches the kept database
    else:
        if have_posts:  # an earlier run stopped after the posts: keep them
            load.update(users=_count(url, "users"), posts_reused=True)
            log(f"reusing the posts of database {name}")
        else:
            url = harness.fresh_database(server_url, name)
            load.update(load_posts(url, posts))
        started = time.perf_counter()
        harness.vacuum_analyze(url)
        load["vacuum_s"] = time.perf_counter() - started
        load["messages_s"] = load_messages(url, messages)
        check_consistent(url, messages)
        log("message_events, message_groups and message_counts agree")
    os.environ["CONNECTION_URL"] = url
    started = time.perf_counter()
    if rollup.refresh(wait_s=30) is None:
        raise SystemExit("the rollup could not be brought up to date")
    load["rollup_s"] = time.perf_counter() - started
    return url, load


def timed(name: str, tz: str) -> float:
    """One cold read as queries.reads._read does it, in ms."""
    from db import pool, statements

    started = time.perf_counter()
    with pool.connection(pool.READER) as conn:
        cur = statements.execute(conn, name, tz=tz)
        cur.fetchall()
    return (time.perf_counter() - started) * 1000


def round_trip() -> float:
    """The floor under any one read: a reader checkout and SELECT 1, in ms."""
    from db import pool

    started = time.perf_counter()
    with pool.connection(pool.READER) as conn:
        conn.execute("SELECT 1").fetchall()
    return (time.perf_counter() - started) * 1000


def server_ms(name: str, tz: str) -> float:
    """PostgreSQL's own planning + execution time of the statement (EXPLAIN ANALYZE), in ms."""
    from db import pool, statements

    _, composed, values = statements.statement(name, {"tz": tz})
    with pool.connection(pool.READER) as conn:
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + composed, values).fetchone()[0][0]
    return plan["Planning Time"] + plan["Execution Time"]


def measure(tz: str, repeat: int, warmup: int = 8) -> dict:
    """Alternating rounds of (a) and (b); returns per-way totals and per-statement times."""
    now = datetime.now(UTC)
    into_quarter = now.minute % 15 + now.second / 60
    for _ in range(warmup):  # connections open, plans prepared (psycopg prepares after 5 runs)
        for name in (GROWTH, *MESSAGES):
            timed(name, tz)
    a, b, parts = [], [], {name: [] for name in (GROWTH, *MESSAGES)}
    for i in range(repeat):
        ways = ("a", "b") if i % 2 == 0 else ("b", "a")
        for way in ways:
            if way == "a":
                a.append(timed(GROWTH, tz))
            else:
                times = {name: timed(name, tz) for name in (GROWTH, *MESSAGES)}
                for name, ms in times.items():
                    parts[name].append(ms)
                b.append(sum(times.values()))
    floor = [round_trip() for _ in range(repeat)]
    server = {name: [server_ms(name, tz) for _ in range(repeat)] for name in (GROWTH, *MESSAGES)}
    return {"a": a, "b": b, "parts": parts, "floor": floor, "server": server, "into_quarter": into_quarter}


def report(machine: str, version: str, load: dict, results: dict, conditions: dict) -> str:
    if load["reused"]:
        how = "database reused from an earlier run"
    else:
        posts = (
            "posts reused from an earlier run"
            if load.get("posts_reused")
            else f"posts in SQL in {load['posts_s']:.1f} s ({load['posts_rows_per_s']:,.0f} rows/s)"
        )
        how = f"{posts}, messages in SQL in {load['messages_s']:.1f} s (with their indexes and derived tables)"
    lines = [
        f"Machine: {machine}; {version} (embedded).",
        f"Conditions: CPU steal {conditions['steal']:.1%} during the measurement, "
        f"load average {conditions['load_before']} before and {conditions['load_after']} after "
        f"({conditions['others']}).",
        "",
        f"**{load['posts']:,} posts** ({load['users']:,} users) and **{load['messages']:,} messages** "
        f"over 90 days ({how}). Medians and p95 over {conditions['repeat']} alternating rounds per zone, "
        "cold in the app (no result cache), warm in PostgreSQL.",
        "",
        "| zone | (a) growth_summary ms median | p95 | (b) + messages ms median | p95 | (b) − (a) ms "
        "| messages_summary ms median | target ≤ 1 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for tz, r in results.items():
        a, b = harness.median_p95(r["a"]), harness.median_p95(r["b"])
        ms = harness.median_p95(r["parts"]["messages_summary"])[0]
        diff = b[0] - a[0]
        lines.append(
            f"| {tz} | {a[0]:.2f} | {a[1]:.2f} | {b[0]:.2f} | {b[1]:.2f} | {diff:+.2f} | {ms:.2f} "
            f"| {'met' if diff <= 1.0 else 'missed'} |"
        )
    lines += [
        "",
        "Where the time goes (medians, ms): PostgreSQL's planning + execution per statement (EXPLAIN ANALYZE), "
        "and the floor of any one read in the app (reader checkout, which runs the pool's connection check, "
        "plus SELECT 1). messages_summary counts part of the quarter hour that holds the same time a week ago "
        "from message_events: the minutes before it up to the quarter's middle, the minutes after it past that, "
        "so its time is highest 7.5 minutes into the current quarter hour.",
        "",
        "| zone | growth_summary in PostgreSQL | messages_summary in PostgreSQL "
        "| one read's floor (checkout + SELECT 1) | minutes into the quarter hour at start |",
        "|---|---:|---:|---:|---:|",
    ]
    for tz, r in results.items():
        g, m = (harness.median_p95(r["server"][x])[0] for x in (GROWTH, *MESSAGES))
        floor = harness.median_p95(r["floor"])[0]
        lines.append(f"| {tz} | {g:.2f} | {m:.2f} | {floor:.2f} | {r['into_quarter']:.1f} |")
    return "\n".join(lines)


def others() -> str:
    """Other busy processes at the end of the measurement (e.g. a test run), by name."""
    import subprocess

    try:
        out = subprocess.run(
            ["ps", "-eo", "pcpu=,comm=", "--sort=-pcpu"], capture_output=True, text=True, timeout=5
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "other processes unknown"
    busy = [line.split(None, 1) for line in out if line.strip()]
    busy = [f"{c} {p}%" for p, c in busy[:6] if float(p) >= 5 and c != "ps"]
    return "busiest processes by lifetime CPU share: " + (", ".join(busy) or "none above 5%")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench growth_messages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000_000, help="posts (users = posts / 10); default 10M")
    parser.add_argument("--messages", type=int, default=10_000_000, help="messages; default 10M")
    parser.add_argument("--repeat", type=int, default=15, help="alternating rounds per zone (default 15)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the database even if one of these sizes exists")
    parser.add_argument("--keep", action="store_true", help="leave the embedded server running")
    args = parser.parse_args(argv)
    os.environ.setdefault("BENCH", "1")
    server_url = harness.start_server(log=log)
    try:
        machine = harness.machine()
        version = harness.server_version(server_url)
        url, load = prepare(server_url, args.posts, args.messages, args.fresh)
        load_before = "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
        before = harness.cpu_times()
        results = {tz: measure(tz, args.repeat) for tz in ZONES}
        after = harness.cpu_times()
        conditions = {
            "steal": harness.steal_share(before, after),
            "load_before": load_before,
            "load_after": "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg()),
            "repeat": args.repeat,
            "others": others(),
        }
        print(report(machine, version, load, results, conditions))
    finally:
        from db import pool

        pool.close_all()
        if not args.keep:
            harness.stop_server()
    return 0
