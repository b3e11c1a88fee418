"""First visit and reload in headless Chromium: the usual Streamlit page against ours, each server freshly started.

    python -m bench first_visit [--posts 10000000] [--users 1000000] [--repeat 3] [--reloads 3]

Uses the database of bench.load (.data/bench-load; loaded with the seed
generator when its size differs). Each repetition starts every variant's server
anew, in turn, and for each one: times 20 requests on one keep-alive HTTP
connection (the browser fetches about 60 script files this way on a first
visit), then launches a fresh headless Chromium (empty cache, like a new
visitor), times the first visit until a KPI value is visible, then reloads and
times each reload. Variants:

  usual       the Growth page written the usual Streamlit way (st.connection with
              plain counts, no warm-up; bench/_baseline_page.py), `streamlit run`
  ours-nagle  our dashboard on Streamlit's own socket (`streamlit run dashboard.py`),
              warmed up like serve.py does: Nagle's algorithm left on (web/tcp.py)
  ours        our dashboard as `make run` serves it (serve.py: app.py, warmed up)

Reports medians over the repetitions and ratios against `usual`.
"""
from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

from bench.load import ARGS, prepare
from db import embedded
from db.settings import ROOT

VARIANTS = {
    "usual": "usual Streamlit way (st.connection, plain counts, no warm-up)",
    "ours-nagle": "ours on Streamlit's own socket (Nagle on), warmed",
    "ours": "ours as served by `make run` (app.py, TCP_NODELAY), warmed",
}


def command(variant: str, port: int) -> list[str]:
    flags = ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"]
    if variant == "usual":
        return [sys.executable, "-m", "streamlit", "run", str(ROOT / "bench" / "_baseline_page.py"), *flags]
    if variant == "ours-nagle":
        return [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), *flags]
    return [sys.executable, str(ROOT / "serve.py")]


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not come up")


def warm_up(port: int) -> None:
    """What serve.py does after start: run the default page once."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/script-health-check", timeout=120) as r:
        r.read()


def keep_alive_ms(port: int, requests: int = 20) -> float:
    """Median time of a small request on one keep-alive connection, after its first."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    for _ in range(requests + 1):
        started = time.perf_counter()
        conn.request("GET", "/_stcore/health")
        conn.getresponse().read()
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    return statistics.median(times[1:])


async def visit(base: str, reloads: int) -> tuple[float, list[float]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.monotonic()
        await page.goto(base, wait_until="commit")
        await page.get_by_test_id("stMetricValue").first.wait_for(timeout=120_000)
        first = time.monotonic() - started
        again = []
        for _ in range(reloads):
            await page.wait_for_timeout(500)
            started = time.monotonic()
            await page.reload(wait_until="commit")
            await page.get_by_test_id("stMetricValue").first.wait_for(timeout=60_000)
            again.append(time.monotonic() - started)
        await browser.close()
    return first, again


def measure(variant: str, url: str, reloads: int) -> dict:
    from tests.browser import free_port

    port = free_port()
    env = {**os.environ, "CONNECTION_URL": url, "PORT": str(port), "BENCH_WAY": "st_connection"}
    proc = subprocess.Popen(command(variant, port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        wait_until_up(port, proc)
        if variant != "usual":
            warm_up(port)  # serve.py has done it already; a second run is as cheap as a visit
        keep_alive = keep_alive_ms(port)
        first, again = asyncio.run(visit(f"http://127.0.0.1:{port}", reloads))
    finally:
        proc.send_signal(2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {"first": first, "reload": statistics.median(again), "keep_alive_ms": keep_alive}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench first_visit", description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reloads", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants: {', '.join(sorted(unknown))}")

    from bench.harness import machine

    pgdata = ROOT / ".data" / "bench-load" / "pg"
    url = prepare(pgdata, args.users, args.posts)
    results: dict[str, list[dict]] = {v: [] for v in variants}
    try:
        for rep in range(args.repeat):
            for variant in variants:  # in turn, so a noisy moment hits every variant alike
                r = measure(variant, url, args.reloads)
                results[variant].append(r)
                print(f"  run {rep + 1} {variant:11} first {r['first']:.2f} s, reload {r['reload']:.2f} s, "
                      f"keep-alive request {r['keep_alive_ms']:.1f} ms", flush=True)
    finally:
        embedded.stop(pgdata)

    def med(variant: str, key: str) -> float:
        return statistics.median(r[key] for r in results[variant])

    base = "usual" if "usual" in variants else None
    print()
    print(f"Machine: {machine()}")
    print(f"| {args.posts:,} posts, medians of {args.repeat} fresh servers | first visit: KPIs visible | "
          f"reload (median of {args.reloads}) | request on a keep-alive connection | first visit vs usual | reload vs usual |")
    print("|---|---|---|---|---|---|")
    for v in variants:
        spread = sorted(r["first"] for r in results[v])
        ratio = (lambda key: f"{med(base, key) / med(v, key):.2f}× faster") if base and v != base else (lambda key: "baseline" if v == base else "")
        print(f"| {VARIANTS[v]} | {med(v, 'first'):.2f} s ({spread[0]:.2f}–{spread[-1]:.2f}) | {med(v, 'reload'):.2f} s | "
              f"{med(v, 'keep_alive_ms'):.1f} ms | {ratio('first')} | {ratio('reload')} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
