"""Who blocks whom: pg_blocking_pids of a sessions snapshot (queries.sessions) as an indented tree."""

from __future__ import annotations

import pandas as pd


def blocking_tree(frame: pd.DataFrame) -> pd.DataFrame:
    """Blocking chains as an indented list: root blockers first (most sessions held up first),
    each followed by the sessions waiting on it. A session with several blockers appears under
    each of them; `blocked_by` always lists all of them."""
    columns = [
        "level",
        "pid",
        "tree",
        "blocked_by",
        "waiting_behind",
        "user",
        "application",
        "state",
        "wait_event",
        "seconds",
        "query",
    ]
    rows = {int(r["pid"]): r for r in frame.to_dict("records")}
    children: dict[int, list[int]] = {}
    for pid, row in rows.items():
        for blocker in row["blocked_by"]:
            children.setdefault(int(blocker), []).append(pid)
    if not children:
        return pd.DataFrame(columns=columns)

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

    def emit(pid: int, level: int, path: frozenset[int]) -> None:
        row = rows.get(pid)
        if row is None:  # a blocker outside this list (another database, or this very backend)
            row = {
                "blocked_by": [],
                "user": None,
                "application": None,
                "state": None,
                "wait_event": None,
                "duration_seconds": None,
                "query": "(not in this list: another database or the dashboard's own backend)",
            }
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
                "wait_event": row["wait_event"],
                "seconds": None if pd.isna(row["duration_seconds"]) else round(float(row["duration_seconds"]), 1),
                "query": row["query"],
            }
        )
        for child in sorted(children.get(pid, [])):
            if child not in path:
                emit(child, level + 1, path | {child})

    for root in roots:
        emit(root, 0, frozenset({root}))
    return pd.DataFrame(out, columns=columns)
