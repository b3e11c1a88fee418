"""`make run`: start the database if needed, prepare it, and serve the dashboard.

With no CONNECTION_URL (and APP_ENV not prod) an embedded PostgreSQL runs from
.data/pg: migrations are applied and an empty database gets demo data. With a
URL, that server is used as it is: nothing is migrated or seeded unless asked
(MIGRATE_ON_START=1). Ctrl-C or SIGTERM stops Streamlit and the embedded server.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from db import embedded
from db.migrate import migrate
from db.settings import ROOT, embedded_url_file, get_settings, mask_url, setting

DB_NAME = "cruddur"


def log(msg: str) -> None:
    print(f"[serve] {msg}", flush=True)


def _terminate(signum, frame):  # SIGTERM/SIGHUP: unwind through `finally` like Ctrl-C
    raise KeyboardInterrupt


def prepare_embedded() -> str:
    t0 = time.perf_counter()
    server_url = embedded.start(log=log)
    url = embedded.ensure_database(server_url, DB_NAME)
    embedded_url_file().write_text(url + "\n")
    log(f"embedded PostgreSQL ready in {time.perf_counter() - t0:.1f} s ({mask_url(url)})")
    migrate(url, log=lambda m: log(m))
    os.environ["CONNECTION_URL"] = url
    from queries import fetch, writing
    from seed import DEMO, generate, load_sample
    from seed.progress import ProgressBar

    counts = fetch("admin.row_counts").iloc[0]
    if counts["users"] == 0 and counts["activities"] == 0:
        log(f"empty database: loading demo data ({DEMO['users']:,} users, {DEMO['posts']:,} posts over {DEMO['days']} days)")
        with writing("users", "activities") as conn:
            load_sample(conn)
            result = generate(conn, progress=ProgressBar("[serve] demo data"), **DEMO)
        log(f"demo data loaded at {result.rows_per_second:,.0f} rows/s")
    else:
        log(f"database has {counts['users']:,} users and {counts['activities']:,} posts; not seeding")
    from db import pool

    pool.close_all()
    return url


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    settings = get_settings()
    port = setting("PORT", "8501")
    owns_server = False
    streamlit = None
    try:
        if settings.is_prod or setting("CONNECTION_URL"):
            url = settings.require_url()
            log(f"using {settings.url_setting_name} = {mask_url(url)}")
            if setting("MIGRATE_ON_START") == "1":
                migrate(url, log=log)
        else:
            owns_server = True
            prepare_embedded()
        cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
               "--server.port", port, "--server.address", setting("HOST", "127.0.0.1"),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        streamlit = subprocess.Popen(cmd, cwd=ROOT, preexec_fn=_die_with_parent)
        _warm_up(port)
        log(f"dashboard on http://127.0.0.1:{port}  (Ctrl-C stops it{' and the database' if owns_server else ''})")
        return streamlit.wait()
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        from db.errors import safe_message

        log(f"error: {safe_message(exc)}")
        return 1
    finally:
        if streamlit and streamlit.poll() is None:
            streamlit.send_signal(signal.SIGINT)
            try:
                streamlit.wait(10)
            except subprocess.TimeoutExpired:
                streamlit.kill()
        if owns_server:
            embedded_url_file().unlink(missing_ok=True)
            if embedded.stop(log=log):
                log("embedded PostgreSQL stopped")


def _die_with_parent() -> None:
    """Linux: Streamlit gets SIGTERM if this launcher is killed, so no orphan keeps the port."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _warm_up(port: str, timeout: float = 60) -> None:
    """Wait for health, then run the default page once (script health check) so
    the first visitor meets warm imports and a warm query cache."""
    base = f"http://127.0.0.1:{port}/_stcore"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as resp:
                if resp.read().strip() == b"ok":
                    break
        except OSError:
            time.sleep(0.2)
    try:
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"{base}/script-health-check", timeout=max(1, deadline - time.monotonic())) as resp:
            log(f"warmed up in {time.perf_counter() - t0:.1f} s ({resp.read().decode().strip()})")
    except OSError as exc:  # 503 when the page fails (e.g. database down): visitors will see why
        log(f"warm-up did not complete: {exc}")


if __name__ == "__main__":
    sys.exit(main())
