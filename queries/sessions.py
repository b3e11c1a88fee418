"""Database sessions: who is connected, what runs, who blocks whom and on what lock (cancel
and terminate are actions.sessions).

Long because it holds the snapshot, its flags, the page's filters (with why each row is hidden)
and the one table shape the page, the CSV and the CLI share.

Reads are never cached: each call asks pg_stat_activity, inside one short
transaction whose statement timeout is SESSIONS_TIMEOUT_MS, so the list stays
cheap however many sessions there are. The dashboard's own sessions are the
backends of this process's connections, known by pid (db.backends), never by
an application_name anyone could choose. Visitors who are not signed in get
`Snapshot.redacted()`: counts, states, durations and applications, no query
text or client.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from db import backends, pool
from db.settings import APP_NAME, get_settings
from db.statements import columns, execute, one, records
from queries import blocking

HIDDEN_QUERY = "<insufficient privilege>"
REDACTED = "(hidden: sign in as an admin to see queries)"
# What a visitor who is not signed in must not read: queries can carry secrets
# (ALTER ROLE ... PASSWORD), clients and users say who connects from where.
PRIVATE_COLUMNS = ("query", "client", "user", "database")


@dataclass(frozen=True)
class Limits:
    long_query_s: float  # an active query running longer is flagged
    idle_in_transaction_s: float  # a transaction left idle longer is flagged
    timeout_ms: int  # statement timeout of the session list itself
    refresh_s: int  # auto-refresh interval of the page


def limits() -> Limits:
    settings = get_settings()
    return Limits(
        long_query_s=settings.long_query_seconds,
        idle_in_transaction_s=settings.idle_in_transaction_seconds,
        timeout_ms=max(1, int(settings.sessions_timeout_ms)),
        refresh_s=max(1, int(settings.sessions_refresh_seconds)),
    )


# ---------------------------------------------------------------- reading


@dataclass
class Snapshot:
    sessions: pd.DataFrame  # one row per session in scope, with flag columns
    viewer: dict[str, Any]  # user, database, pid, superuser, sees_all, signals_all
    taken_at: datetime
    db_ms: float
    limits: Limits
    is_redacted: bool = False

    @property
    def hidden(self) -> int:
        return int(self.sessions["hidden"].sum())

    def grant_hint(self) -> str | None:
        """Why some rows say <insufficient privilege>, and the fix; None when nothing is hidden."""
        if not self.hidden or self.is_redacted:
            return None
        user = self.viewer["user"]
        return (
            f"{self.hidden} session(s) belong to other users and PostgreSQL shows them to `{user}` only as "
            f"`{HIDDEN_QUERY}`: their query, state, client and timings are hidden. To see them, a superuser "
            f'(on RDS, the master user) can run `GRANT pg_read_all_stats TO "{user}";` (pg_monitor includes '
            "it). Ending other users' sessions additionally needs `pg_signal_backend`."
        )

    def redacted(self) -> Snapshot:
        """The snapshot a visitor who is not signed in may see: no query text, client,
        user or database; the grant hint (it names the database user) goes too."""
        frame = self.sessions.copy()
        frame["query"] = frame["query"].where(frame["query"].isna(), REDACTED)
        for col in PRIVATE_COLUMNS[1:]:
            frame[col] = None
        viewer = {**self.viewer, "user": None, "database": None}
        return Snapshot(
            sessions=frame,
            viewer=viewer,
            taken_at=self.taken_at,
            db_ms=self.db_ms,
            limits=self.limits,
            is_redacted=True,
        )

    def counts(self) -> dict[str, int]:
        return counts(self.sessions)


def snapshot(*, all_databases: bool = False, lim: Limits | None = None) -> Snapshot:
    """Every session in scope (this database, or all with `all_databases`), never our own backend;
    the other sessions of this process are flagged `own`. Sessions waiting on a lock carry what
    they wait for (queries.blocking.lock_waits), read in the same transaction."""
    lim = lim or limits()
    started = datetime.now(UTC)
    with pool.connection(pool.READER) as conn, conn.transaction():
        execute(conn, "database.set_statement_timeout", timeout_ms=lim.timeout_ms)
        cur = execute(conn, "sessions.get_viewer")
        viewer = dict(zip(columns(cur), one(cur), strict=True))
        cur = execute(conn, "sessions.get_activity", all_databases=all_databases)
        frame = pd.DataFrame.from_records(cur.fetchall(), columns=columns(cur))
        waits = pd.DataFrame(records(execute(conn, "sessions.get_lock_waits")))
    db_ms = (datetime.now(UTC) - started).total_seconds() * 1000
    frame = (
        frame.join(blocking.lock_waits(waits), on="pid")
        if len(frame)
        else frame.assign(**{c: None for c in blocking.LOCK_COLUMNS})
    )
    return Snapshot(
        sessions=add_flags(frame, lim, backends.own_pids()), viewer=viewer, taken_at=started, db_ms=db_ms, limits=lim
    )


def add_flags(frame: pd.DataFrame, lim: Limits, own_pids: Sequence[int] = ()) -> pd.DataFrame:
    out = frame.copy()
    for col in ("query_seconds", "transaction_seconds", "state_seconds", "connected_seconds"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    out["blocked_by"] = out["blocked_by"].map(lambda v: sorted(v) if isinstance(v, list) else [])
    blockers = {pid for pids in out["blocked_by"] for pid in pids}
    state = out["state"].fillna("")
    out["own"] = out["pid"].isin(list(own_pids))
    # Named like ours but not ours: another replica of the dashboard, or anyone who chose the
    # name. Shown and signalable like any client, flagged so an admin sees it before acting.
    out["named_like_ours"] = ~out["own"] & out["application"].fillna("").str.startswith(f"{APP_NAME}:")
    out["long_running"] = (state == "active") & (out["query_seconds"].fillna(0) >= lim.long_query_s)
    out["idle_in_transaction"] = state.str.startswith("idle in transaction") & (
        out["state_seconds"].fillna(0) >= lim.idle_in_transaction_s
    )
    out["blocked"] = out["blocked_by"].map(bool)
    out["blocking"] = out["pid"].isin(blockers)
    # What "duration" means for the minimum-duration filter: the running query, else time in this state.
    out["duration_seconds"] = out["query_seconds"].where(state == "active", out["state_seconds"])
    out["flags"] = [
        ", ".join(
            label
            for label, on in (
                ("long-running", r.long_running),
                ("idle in transaction", r.idle_in_transaction),
                ("blocked", r.blocked),
                ("blocking", r.blocking),
                ("dashboard", r.own),
                ("named like the dashboard (another replica?)", r.named_like_ours),
            )
            if on
        )
        for r in out.itertuples()
    ]
    return out


SEARCHED = ("query", "user", "application")
# Why a row is not shown, in the order the filters are asked (a row counts under the first that hides it).
HIDDEN_BECAUSE = {
    "own": "the dashboard's own",
    "idle": "idle (Hide idle sessions)",
    "short": "shorter than the minimum duration",
    "search": "not matching the search",
}


def filtered(
    frame: pd.DataFrame,
    *,
    hide_idle: bool = True,
    include_own: bool = False,
    min_seconds: float = 0,
    search: str = "",
    search_in: Sequence[str] = SEARCHED,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The page's filters: the rows kept, and how many each filter hid (HIDDEN_BECAUSE keys; a row
    counts once, under the first filter that hides it). Hidden (<insufficient privilege>) rows have
    no state or timing, so they survive "hide idle" but not a minimum duration. A visitor searches
    applications only."""
    keep = pd.Series(True, index=frame.index)
    hidden: dict[str, int] = {}

    def drop(reason: str, mask: pd.Series) -> None:
        nonlocal keep
        gone = keep & ~mask
        if gone.any():
            hidden[reason] = int(gone.sum())
        keep &= mask

    if not include_own:
        drop("own", ~frame["own"].astype(bool))
    if hide_idle:
        # Background processes have no state; waiting in their main loop ("Activity") is their idle.
        drop("idle", (frame["state"].fillna("") != "idle") & (frame["wait_event_type"].fillna("") != "Activity"))
    if min_seconds > 0:
        drop("short", frame["duration_seconds"].fillna(-1) >= min_seconds)
    needle = search.strip().lower()
    if needle:
        text = pd.Series("", index=frame.index)
        for col in search_in:
            text = text + " " + frame[col].fillna("").astype(str).str.lower()
        drop("search", text.str.contains(needle, regex=False))
    return frame[keep], hidden


def visible(frame: pd.DataFrame, **filters: Any) -> pd.DataFrame:
    """The rows `filtered` keeps."""
    return filtered(frame, **filters)[0]


def hidden_note(hidden: dict[str, int]) -> str:
    """'3 hidden: 2 idle (Hide idle sessions), 1 the dashboard's own', or '' when none is."""
    if not hidden:
        return ""
    parts = ", ".join(f"{n} {HIDDEN_BECAUSE[reason]}" for reason, n in hidden.items())
    return f"{sum(hidden.values())} hidden: {parts}"


def counts(frame: pd.DataFrame) -> dict[str, int]:
    """The page's and the CLI's figures, of exactly the rows given."""
    return {
        "sessions": len(frame),
        "active": int((frame["state"] == "active").sum()),
        "long_running": int(frame["long_running"].sum()),
        "idle_in_transaction": int(frame["idle_in_transaction"].sum()),
        "blocked": int(frame["blocked"].sum()),
        "hidden": int(frame["hidden"].sum()),
    }


def humanise(seconds: float | None) -> str:
    """'0.4 s', '42 s', '1 min', '12 min 4 s', '3 h 5 min', '2 d 4 h'; '' when there is no duration."""
    if seconds is None or pd.isna(seconds):
        return ""
    s = max(0.0, float(seconds))
    if s < 0.05:
        return "< 0.1 s"  # not "0.0 s": it did start
    if s < 9.95:
        return f"{s:.1f} s"
    whole = int(round(s))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        big, small = f"{whole // 60} min", whole % 60 and f"{whole % 60} s"
    elif whole < 86400:
        big, small = f"{whole // 3600} h", whole % 3600 // 60 and f"{whole % 3600 // 60} min"
    else:
        big, small = f"{whole // 86400} d", whole % 86400 // 3600 and f"{whole % 86400 // 3600} h"
    return f"{big} {small}" if small else big


def wait_text(row: dict) -> str:
    """What a session waits for: the lock in words for a lock wait, else the wait event."""
    if row.get("lock_mode") is not None and not pd.isna(row.get("lock_mode")):
        return blocking.lock_line(row)
    kind, event = row.get("wait_event_type"), row.get("wait_event")
    if not isinstance(kind, str):
        return ""
    return f"{kind}: {event}" if isinstance(event, str) else kind


# Seconds columns: exact in the CSV and the CLI; the page shows them humanised beside.
SECONDS = ("duration_seconds", "query_seconds", "transaction_seconds", "connected_seconds")
TABLE_COLUMNS = [
    "pid",
    "user",
    "application",
    "state",
    "duration",
    "wait",
    "query",
    "blocked_by",
    "flags",
    "query_start",
    "xact_start",
    "backend_start",
    "database",
    "client",
    "backend_type",
    "wait_event_type",
    "wait_event",
    "lock_type",
    "lock_mode",
    "lock_relation",
    "lock_holders",
    *SECONDS,
]


def shorten(query: str | None, width: int = 80) -> str:
    text = " ".join((query or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def table(frame: pd.DataFrame, *, short_query: bool = False) -> pd.DataFrame:
    """The columns people read, most useful first, for the page table, the CSV download and the CLI.
    `duration` is the humanised `duration_seconds` (the running query; for other states, the time in
    that state); `state` names the process for background workers, which have none; text cells
    hold '' rather than None."""
    out = frame.copy()
    for col in blocking.LOCK_COLUMNS:
        if col not in out:
            out[col] = None
    out["duration"] = out["duration_seconds"].map(humanise)
    out["wait"] = [wait_text(r) for r in out.to_dict("records")]
    out["state"] = out["state"].where(out["state"].notna(), "(" + out["backend_type"].fillna("hidden") + ")")
    out["blocked_by"] = out["blocked_by"].map(lambda pids: ", ".join(map(str, pids)))
    for col in SECONDS:
        out[col] = out[col].round(1)
    out = out[TABLE_COLUMNS]
    text = [
        c for c in TABLE_COLUMNS if out[c].dtype == object and c not in ("query_start", "xact_start", "backend_start")
    ]
    out[text] = out[text].fillna("")
    if short_query:
        out["query"] = out["query"].map(shorten)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------- choosing a session


@dataclass(frozen=True)
class SessionChoice:
    """The session a person confirmed. backend_start pins it: a pid reused by a new session
    after the confirmation is not the one they agreed to end."""

    pid: int
    backend_start: datetime | None
    user: str | None
    application: str | None
    database: str | None
    query: str | None

    @classmethod
    def from_row(cls, row: dict) -> SessionChoice:
        start = row.get("backend_start")
        if isinstance(start, pd.Timestamp):
            start = start.to_pydatetime()
        return cls(
            pid=int(row["pid"]),
            backend_start=None if pd.isna(start) else start,
            user=row.get("user"),
            application=row.get("application"),
            database=row.get("database"),
            query=row.get("query"),
        )

    @property
    def is_dashboard(self) -> bool:
        """One of this process's own sessions (by pid, whatever its application_name)."""
        return self.pid in backends.own_pids()


def terminate_candidates() -> list[SessionChoice]:
    """Client sessions of this database that "terminate all others" would end (never ours)."""
    with pool.connection(pool.READER) as conn:
        cur = execute(conn, "sessions.get_terminate_candidates", own_pids=backends.own_pids())
        return [SessionChoice.from_row(row) for row in records(cur)]
