"""What the benchmarks share: a dedicated embedded server and databases, the machine, statistics."""

from __future__ import annotations

import os
import platform
import signal
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg
from psycopg import sql

from db import embedded
from db.settings import ROOT, data_dir


def bench_dir() -> Path:
    return Path(os.environ.get("BENCH_DATA_DIR") or data_dir() / "bench")


def start_server(log=print) -> str:
    """An embedded server of its own (never the `make run` one); returns its maintenance URL."""
    return embedded.start(bench_dir() / "pg", log=log)


def stop_server() -> None:
    embedded.stop(bench_dir() / "pg")


def fresh_database(server_url: str, name: str, *, migrations: str = "all") -> str:
    """Drop and create `name`; migrations 'all' (ours) or 'plain' (tables and
    created_at indexes only, no rollup)."""
    from db.migrate import discover, migrate

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = embedded.with_database(server_url, name)
    if migrations == "all":
        migrate(url, log=lambda m: None)
    else:
        with psycopg.connect(url, autocommit=True) as conn:
            for m in discover():
                if m.version <= 2:
                    conn.execute(m.text)
    return url


def vacuum_analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("users", "activities"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")))
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        pass
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}){mem}, {system}, Python {platform.python_version()}{load}"


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        v = conn.info.server_version
    return f"PostgreSQL {v // 10000}.{v % 10000}"


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95


def cpu_times() -> list[int]:
    """The machine's CPU time counters (/proc/stat: user nice system idle iowait irq softirq steal)."""
    with open("/proc/stat") as fh:
        return [int(x) for x in fh.readline().split()[1:9]]


def steal_share(before: list[int], after: list[int]) -> float:
    """Share of CPU time the hypervisor took from this VM between two cpu_times()
    readings: timings from a run with much steal are noisier and slower."""
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta)
    return delta[7] / total if total else 0.0


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pid(proc: subprocess.Popen) -> int:
    """The Streamlit process that serve.py (make run's launcher) started: timing the
    launcher itself would report next to nothing, so no child is an error."""
    try:
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
            children = fh.read().split()
    except OSError as exc:
        raise RuntimeError(f"cannot find serve.py's server process: {exc}") from exc
    if len(children) != 1:
        raise RuntimeError(f"serve.py should have started one server process, found {len(children)}")
    return int(children[0])


def start_app(cmd: list[str], env: dict) -> subprocess.Popen:
    """A server process the bench stops with SIGINT, as Ctrl-C would: a bench started in
    the background (`nohup ... &`) ignores SIGINT, and its children would inherit that."""
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def stop_app(proc: subprocess.Popen) -> None:
    """Ctrl-C, then a kill if it has not gone within 30 s (never masking the run's own error)."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
