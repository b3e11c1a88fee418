"""First visit and reload in headless Chromium: the usual Streamlit page against ours, each server freshly started.

    python -m bench first_visit [--posts 10000000] [--users 1000000] [--repeat 3] [--reloads 3]

Uses the database of bench.load (.data/bench-load; loaded with the seed
generator when its size differs). Each repetition starts every variant's server
anew, in turn, and for each one: times 20 requests on one keep-alive HTTP
connection (the browser fetches about 60 script files this way on a first
visit), then launches a fresh headless Chromium (empty cache, like a new
visitor), times the first visit until a KPI value is painted (and, for
comparison, until Playwright's polling sees it), then reloads and times each
reload the same way. Variants:

  usual       the Growth page written the usual Streamlit way (st.connection with
              plain counts, no warm-up; bench/_baseline_page.py), `streamlit run`
  ours-nagle  our dashboard on Streamlit's own socket (`streamlit run dashboard.py`),
              warmed up like serve.py does: Nagle's algorithm left on (web/tcp.py)
  ours        our dashboard as `make run` serves it (serve.py: app.py, warmed up)
  constant    one constant st.metric and nothing else (bench/_constant_page.py),
              served and warmed like ours: the floor of any Streamlit page

Reports medians over the repetitions, ratios against `usual` and how much later
than `constant` each page's KPI is painted.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import shutil
import statistics
import sys
import time

from bench.harness import start_app, stop_app, wait_until_up, warm_up
from bench.load import ARGS, prepare
from db import embedded
from db.settings import ROOT

VARIANTS = {
    "usual": "usual Streamlit way (st.connection, plain counts, no warm-up)",
    "ours-nagle": "ours on Streamlit's own socket (Nagle on), warmed",
    "ours": "ours as served by `make run` (app.py, TCP_NODELAY), warmed",
    "constant": "one constant st.metric and nothing else, served like ours, warmed",
}


def command(variant: str, port: int) -> list[str]:
    flags = [
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    if variant == "usual":
        return [sys.executable, "-m", "streamlit", "run", str(ROOT / "bench" / "_baseline_page.py"), *flags]
    if variant == "constant":
        return [sys.executable, "-m", "web", "run", str(ROOT / "bench" / "_constant_page.py"), *flags]
    if variant == "ours-nagle":
        return [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), *flags]
    return [sys.executable, str(ROOT / "serve.py")]


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


# Records when the first KPI value is painted: a MutationObserver sees the value
# arrive in the DOM, and the next animation frame is when it is on screen. Polling
# from outside (Playwright's wait_for) only notices once the page's main thread is
# free again, which after a first paint is busy drawing the charts.
PAINT_PROBE = """
(() => {
  const seen = () => {
    const el = document.querySelector('[data-testid=stMetricValue]');
    if (el && el.textContent.trim() && window.__kpiPainted === undefined) {
      window.__kpiPainted = null;
      requestAnimationFrame(() => { window.__kpiPainted = performance.now(); });
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(seen);
  document.addEventListener('DOMContentLoaded', () =>
    observer.observe(document.body, {subtree: true, childList: true, characterData: true}));
  // When the server's messages arrive, to tell the server's time from the browser's.
  window.__wsTimes = [];
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', () => window.__wsTimes.push(performance.now()));
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""


async def load_once(page, navigate) -> tuple[float, float, float]:
    """Seconds from navigation start until the KPI was painted and until Playwright saw
    it, and seconds from the server's first message to the paint (the browser's part)."""
    started = time.monotonic()
    await navigate()
    await page.get_by_test_id("stMetricValue").first.wait_for(timeout=120_000)
    seen = time.monotonic() - started
    await page.wait_for_function("typeof window.__kpiPainted === 'number'", timeout=30_000)
    painted, first_message = await page.evaluate("[window.__kpiPainted, window.__wsTimes[0] ?? NaN]")
    return painted / 1000, seen, (painted - first_message) / 1000


async def visit(base: str, reloads: int) -> tuple[tuple[float, float, float], list[tuple[float, float, float]]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        await context.add_init_script(PAINT_PROBE)
        page = await context.new_page()
        first = await load_once(page, lambda: page.goto(base, wait_until="commit"))
        again = []
        for _ in range(reloads):
            await page.wait_for_timeout(500)
            again.append(await load_once(page, lambda: page.reload(wait_until="commit")))
        await browser.close()
    return first, again


def wait_for_idle_database(url: str, timeout: float = 60) -> None:
    """Until no other client runs a statement: a stopped baseline server leaves its
    whole-table counts running in PostgreSQL for a while, on the same two cores."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            if not busy:
                return
            time.sleep(0.2)


def measure(variant: str, url: str, reloads: int) -> dict:
    from tests.browser import free_port

    wait_for_idle_database(url)

    port = free_port()
    env = {**os.environ, "CONNECTION_URL": url, "PORT": str(port), "BENCH_WAY": "st_connection"}
    proc = start_app(command(variant, port), env)
    try:
        wait_until_up(port, proc)
        if variant != "usual":
            warm_up(port)  # serve.py has done it already; a second run is as cheap as a visit
        keep_alive = keep_alive_ms(port)
        first, again = asyncio.run(visit(f"http://127.0.0.1:{port}", reloads))
    finally:
        stop_app(proc)
    return {
        "first": first[0],
        "first_seen": first[1],
        "first_browser": first[2],
        "reload": statistics.median(p for p, _, _ in again),
        "reload_seen": statistics.median(s for _, s, _ in again),
        "reload_browser": statistics.median(b for _, _, b in again),
        "keep_alive_ms": keep_alive,
    }


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

    from bench.harness import cpu_times, machine, steal_share

    pgdata = ROOT / ".data" / "bench-load" / "pg"
    url = prepare(pgdata, args.users, args.posts)
    results: dict[str, list[dict]] = {v: [] for v in variants}
    before = cpu_times()
    try:
        for rep in range(args.repeat):
            for variant in variants:  # in turn, so a noisy moment hits every variant alike
                r = measure(variant, url, args.reloads)
                results[variant].append(r)
                print(
                    f"  run {rep + 1} {variant:11} first painted {r['first']:.2f} s (seen {r['first_seen']:.2f}), "
                    f"reload painted {r['reload']:.2f} s (seen {r['reload_seen']:.2f}), "
                    f"keep-alive request {r['keep_alive_ms']:.1f} ms",
                    flush=True,
                )
    finally:
        embedded.stop(pgdata)

    def med(variant: str, key: str) -> float:
        return statistics.median(r[key] for r in results[variant])

    base = "usual" if "usual" in variants else None
    print()
    print(f"Machine: {machine()}; CPU steal during the runs {steal_share(before, cpu_times()):.0%}")
    print(
        f"| {args.posts:,} posts, medians of {args.repeat} fresh servers | first visit: KPIs painted | "
        f"(seen by polling) | reload: KPIs painted (median of {args.reloads}) | (seen by polling) | "
        "request on a keep-alive connection | first visit vs usual | reload vs usual | "
        "painted after the constant page: first visit / reload | "
        "from the server's first message to the paint: first visit / reload |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")

    def behind(v: str) -> str:
        """How much later than the constant page (same run) the KPI is painted."""
        if "constant" not in variants or v == "constant":
            return ""
        return " / ".join(f"{(med(v, k) - med('constant', k)) * 1000:+.0f} ms" for k in ("first", "reload"))

    for v in variants:
        spread = sorted(r["first"] for r in results[v])

        def ratio(key: str, v: str = v) -> str:
            if v == base:
                return "baseline"
            return f"{med(base, key) / med(v, key):.2f}× faster" if base else ""

        print(
            f"| {VARIANTS[v]} | {med(v, 'first'):.2f} s ({spread[0]:.2f}–{spread[-1]:.2f}) | "
            f"{med(v, 'first_seen'):.2f} s | {med(v, 'reload'):.2f} s | {med(v, 'reload_seen'):.2f} s | "
            f"{med(v, 'keep_alive_ms'):.1f} ms | {ratio('first')} | {ratio('reload')} | {behind(v)} "
            f"| {med(v, 'first_browser') * 1000:.0f} ms / {med(v, 'reload_browser') * 1000:.0f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
