"""Who blocks whom, and on what: pg_blocking_pids of a sessions snapshot (queries.sessions) as an
indented tree, and pg_locks' waiting locks (sessions.get_lock_waits) described the way pg_activity
and pghero name them: the lock type and mode a session wants, the relation (schema-qualified) or
transaction it waits on, and each holder's mode."""

from __future__ import annotations

from typing import Any

import pandas as pd

RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "i": "index",
    "I": "partitioned index",
    "S": "sequence",
    "v": "view",
    "m": "materialized view",
    "t": "TOAST table",
    "f": "foreign table",
    "c": "composite type",
}
LOCK_COLUMNS = ["lock_type", "lock_mode", "lock_relation", "lock_on", "lock_holders", "holder_modes"]


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def lock_target(row: dict) -> tuple[str, str, str | None]:
    """(lock type, what it locks in words, schema-qualified relation or None) for one waiting lock."""
    kind = row["locktype"]
    relation = row.get("relation") if _present(row.get("relation")) else None
    named = f"{RELKINDS.get(row.get('relkind') or '', 'relation')} {relation}" if relation else None
    if kind == "relation":
        return "relation", named or "a relation", relation
    if kind == "tuple":
        return "tuple (row)", f"row ({row['page']},{row['tuple']}) of {named or 'a relation'}", relation
    if kind == "transactionid":
        row_relation = row.get("row_relation") if _present(row.get("row_relation")) else None
        if row_relation:  # a row lock: the waiter holds the row's tuple lock and waits for its locker to end
            what = f"row {row['row_ctid']} of {row_relation}, locked by transaction {row['transactionid']}"
            return "transactionid (row)", what, row_relation
        return "transactionid", f"transaction {row['transactionid']}", None
    if kind == "virtualxid":
        return "virtualxid", f"virtual transaction {row['virtualxid']} (e.g. CREATE INDEX CONCURRENTLY waiting)", None
    if kind == "advisory":
        return "advisory", f"advisory lock {row['advisory_key']}", None
    if kind in ("extend", "page"):
        return kind, f"{kind} of {named or 'a relation'}", relation
    return kind, named or kind, relation


def _holder(row: dict) -> str:
    pid = int(row["holder_pid"])
    if _present(row.get("holder_mode")):
        return f"{pid} holds {row['holder_mode']}"
    if _present(row.get("holder_waiting_mode")):
        return f"{pid} queued ahead for {row['holder_waiting_mode']}"
    return f"{pid} (its lock is on a conflicting object)"


def lock_waits(waits: pd.DataFrame) -> pd.DataFrame:
    """One row per waiting session (index: pid) from sessions.get_lock_waits' rows (one per holder):
    lock_type, lock_mode (wanted), lock_relation, lock_on (words), lock_holders (words) and
    holder_modes ({holder pid: mode})."""
    out: dict[int, dict] = {}
    for row in waits.to_dict("records"):
        pid = int(row["pid"])
        if pid not in out:
            kind, words, relation = lock_target(row)
            out[pid] = {
                "lock_type": kind,
                "lock_mode": row["wanted_mode"],
                "lock_relation": relation,
                "lock_on": words,
                "holders": [],
                "holder_modes": {},
            }
        if _present(row.get("holder_pid")):
            out[pid]["holders"].append(_holder(row))
            mode = row.get("holder_mode") if _present(row.get("holder_mode")) else row.get("holder_waiting_mode")
            out[pid]["holder_modes"][int(row["holder_pid"])] = mode if _present(mode) else None
    frame = pd.DataFrame.from_dict(out, orient="index")
    if frame.empty:
        return pd.DataFrame(columns=LOCK_COLUMNS, index=pd.Index([], name="pid"))
    frame["lock_holders"] = frame.pop("holders").map("; ".join)
    frame.index.name = "pid"
    return frame[LOCK_COLUMNS]


def lock_line(row: dict) -> str:
    """'ShareLock on row (0,1) of public.users, locked by transaction 754 (transactionid (row)); 4711 holds
    ExclusiveLock', or '' for a session not waiting on a lock."""
    if not _present(row.get("lock_mode")):
        return ""
    line = f"{row['lock_mode']} on {row['lock_on']} [{row['lock_type']}]"
    return f"{line}; {row['lock_holders']}" if row.get("lock_holders") else line


TREE_COLUMNS = [
    "level",
    "pid",
    "tree",
    "blocked_by",
    "waiting_behind",
    "user",
    "application",
    "state",
    "wants",
    "parent_holds",
    "seconds",
    "query",
]


def blocking_tree(frame: pd.DataFrame) -> pd.DataFrame:
    """Blocking chains as an indented list: root blockers first (most sessions held up first),
    each followed by the sessions waiting on it. A session with several blockers appears under
    each of them; `blocked_by` always lists all of them. `wants` is the lock a waiting session
    asks for; `parent_holds` the mode the session above it holds on that object."""
    rows = {int(r["pid"]): r for r in frame.to_dict("records")}
    children: dict[int, list[int]] = {}
    for pid, row in rows.items():
        for blocker in row["blocked_by"]:
            children.setdefault(int(blocker), []).append(pid)
    if not children:
        return pd.DataFrame(columns=TREE_COLUMNS)

    def reach(pid: int, seen: set[int]) -> set[int]:
        for child in children.get(pid, []):
            if child not in seen:
                seen.add(child)
                reach(child, seen)
        return seen

    waiting = {pid: reach(pid, set()) - {pid} for pid in children}
    blocked = {pid for kids in children.values() for pid in kids}
    roots = [pid for pid in children if pid not in blocked]
    # A cycle (a deadlock PostgreSQL has not broken yet) has no root: start it at its lowest pid.
    covered = set(roots).union(*(waiting[r] for r in roots)) if roots else set()
    for pid in sorted(children):
        if pid not in covered:
            roots.append(pid)
            covered |= {pid} | waiting[pid]
    roots.sort(key=lambda pid: (-len(waiting[pid]), pid))

    out: list[dict] = []

    def emit(pid: int, level: int, path: frozenset[int], parent: int | None) -> None:
        row = rows.get(pid)
        if row is None:  # a blocker outside this list (another database, or this very backend)
            row = {
                "blocked_by": [],
                "user": None,
                "application": None,
                "state": None,
                "duration_seconds": None,
                "query": "(not in this list: another database or the dashboard's own backend)",
            }
        modes = row.get("holder_modes")
        held = modes.get(parent) if isinstance(modes, dict) and parent is not None else None
        out.append(
            {
                "level": level,
                "pid": pid,
                "tree": "\u2003" * level + ("● " if level == 0 else "└ ") + str(pid),
                "blocked_by": ", ".join(map(str, row["blocked_by"])),
                "waiting_behind": len(waiting.get(pid, ())),
                "user": row["user"],
                "application": row["application"],
                "state": row["state"],
                "wants": f"{row['lock_mode']} on {row['lock_on']}" if _present(row.get("lock_mode")) else "",
                "parent_holds": held or "",
                "seconds": None if pd.isna(row["duration_seconds"]) else round(float(row["duration_seconds"]), 1),
                "query": row["query"],
            }
        )
        for child in sorted(children.get(pid, [])):
            if child not in path:
                emit(child, level + 1, path | {child}, pid)

    for root in roots:
        emit(root, 0, frozenset({root}), None)
    return pd.DataFrame(out, columns=TREE_COLUMNS)
