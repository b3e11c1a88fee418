"""Server CPU of the Growth page's freshness poll: idle open tabs against none.

    python -m bench freshness_poll [--tabs 5] [--seconds 60] [--rounds 3] [--ttl 60]

Each Growth tab runs a fragment every ui.freshness.POLL_S seconds (a few dict
lookups; a page rerun only when a newer result landed). This serves the app
(`python -m web run app.py`) on a throwaway embedded PostgreSQL with the demo's
size (5,000 users, 50,000 posts), opens N tabs in headless Chromium, and reads
the server process's CPU time (/proc/PID/stat) over a quiet window; rounds
alternate "no tab open" and "N tabs open", the same server throughout. The
figure is the difference per tab per minute, and per tick.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from db import embedded
from db.settings import ROOT


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(url: str, port: int, ttl: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CONNECTION_URL": url, "CACHE_TTL": str(ttl), "DASHBOARD_SECRETS_FILE": str(log) + ".none"}
    cmd = [sys.executable, "-m", "web", "run", str(ROOT / "app.py"), "--server.port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.read() == b"ok":
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the app did not start: " + log.read_text()[-2000:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench freshness_poll", description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ttl", type=int, default=60, help="CACHE_TTL of the served app")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from db.migrate import migrate
    from seed.generate import generate
    from tests.browser import CHROMIUM_ARGS, chromium_path, free_port

    base = Path(tempfile.mkdtemp(prefix="cruddur-bench-poll-"))
    proc = None
    try:
        url = embedded.ensure_database(embedded.start(base / "pg", log=lambda m: None), "cruddur")
        migrate(url, log=lambda m: None)
        import psycopg

        with psycopg.connect(url) as conn:
            generate(conn, users=5_000, posts=50_000, days=90)
        port = free_port()
        proc = serve(url, port, args.ttl, base / "app.log")
        idle, busy = [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for _ in range(args.rounds):
                start = cpu_seconds(proc.pid)
                time.sleep(args.seconds)
                idle.append(cpu_seconds(proc.pid) - start)
                pages = [browser.new_page() for _ in range(args.tabs)]
                for page in pages:
                    page.goto(f"http://127.0.0.1:{port}/")
                    page.get_by_test_id("stMetricValue").first.wait_for(timeout=60_000)
                time.sleep(3)  # page loads done: only the polls remain
                start = cpu_seconds(proc.pid)
                time.sleep(args.seconds)
                busy.append(cpu_seconds(proc.pid) - start)
                for page in pages:
                    page.close()
            browser.close()
        from ui.freshness import POLL_S

        per_tab_min = [(b - i) / args.tabs * 60 / args.seconds for b, i in zip(busy, idle, strict=True)]
        ticks = args.seconds / POLL_S
        print(f"idle server CPU per window: {', '.join(f'{x:.2f} s' for x in idle)}")
        print(f"{args.tabs} Growth tabs open:       {', '.join(f'{x:.2f} s' for x in busy)}")
        median = statistics.median(per_tab_min)
        print(
            f"per open tab: {median * 1000:.0f} ms of server CPU per minute (median of {args.rounds}), "
            f"{median * 1000 / (60 / POLL_S):.1f} ms per {POLL_S} s tick; {ticks:.0f} ticks per tab per window"
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        embedded.destroy(base / "pg")
        shutil.rmtree(base, ignore_errors=True)
    return 0
