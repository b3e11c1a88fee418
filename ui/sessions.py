"""Sessions page furniture: metrics, row highlighting, and the confirmed cancel/terminate panel."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from actions import sessions as session_actions
from queries import sessions
from ui.auth import is_admin, require_admin, sign_in_form
from ui.common import database_guard

PENDING = "sessions-pending"  # (action, [SessionChoice, ...]) awaiting confirmation
RESULTS = "sessions-results"  # outcomes of the last confirmed action

LONG = "background-color: rgba(255, 75, 75, 0.18)"
IDLE_TX = "background-color: rgba(255, 170, 0, 0.20)"
BLOCKED = "background-color: rgba(120, 90, 255, 0.15)"


def metrics_row(counts: dict[str, int], lim: sessions.Limits) -> None:
    """Figures of the rows the table shows (sessions.counts of them), so the two always agree."""
    cols = st.columns(5)
    cols[0].metric("Sessions shown", counts["sessions"], border=True)
    cols[1].metric("Active", counts["active"], border=True)
    cols[2].metric(f"Long-running (≥ {sessions.humanise(lim.long_query_s)})", counts["long_running"], border=True)
    cols[3].metric(
        f"Idle in transaction (≥ {sessions.humanise(lim.idle_in_transaction_s)})",
        counts["idle_in_transaction"],
        border=True,
    )
    cols[4].metric("Blocked", counts["blocked"], border=True)


def flag_rows(display: pd.DataFrame, shown: pd.DataFrame):
    """Highlight long-running, idle-in-transaction and blocked rows (display and shown share row order)."""
    flags = shown[["long_running", "idle_in_transaction", "blocked"]].reset_index(drop=True)

    def style(row: pd.Series) -> list[str]:
        f = flags.loc[row.name]
        css = LONG if f.long_running else IDLE_TX if f.idle_in_transaction else BLOCKED if f.blocked else ""
        return [css] * len(row)

    return display.style.apply(style, axis=1)


# Widths in pixels chosen so that PID to the query's start fit the main area of a 1440 px
# window with the sidebar open (tests/test_database_browser.py measures it); the rest scrolls.
FIRST_COLUMNS = ["pid", "user", "application", "state", "duration", "wait", "query"]


def session_table_config() -> dict:
    seconds = "%.1f s"
    time = st.column_config.DatetimeColumn
    return {
        "pid": st.column_config.NumberColumn("PID", format="%d", width=64, pinned=True),
        "user": st.column_config.TextColumn("User", width=90),
        "application": st.column_config.TextColumn("Application", width=140),
        "state": st.column_config.TextColumn("State", width=110),
        "duration": st.column_config.TextColumn(
            "For",
            width=84,
            help="The running query's time; for other states, the time in that state. "
            "Exact seconds: the Seconds column, the session panel and the CSV.",
        ),
        "wait": st.column_config.TextColumn(
            "Wait", width=180, help="Lock wanted (mode, on what, holder) or wait event"
        ),
        "query": st.column_config.TextColumn("Query", width=240, help="Pick the row to read it whole below"),
        "blocked_by": "Blocked by",
        "flags": "Flags",
        "query_start": time("Query start", format="HH:mm:ss", help="UTC"),
        "xact_start": time("Transaction start", format="HH:mm:ss", help="UTC"),
        "backend_start": time("Connected since", format="YYYY-MM-DD HH:mm:ss", help="UTC"),
        "duration_seconds": st.column_config.NumberColumn("Seconds", format=seconds),
        "database": "Database",
        "client": "Client",
        "backend_type": "Backend",
        "lock_type": "Lock type",
        "lock_mode": "Lock mode wanted",
        "lock_relation": "Lock relation",
        "lock_holders": "Lock holders",
    }


def session_column_order(display: pd.DataFrame) -> list[str]:
    later = ["blocked_by", "flags", "query_start", "xact_start", "backend_start", "duration_seconds"]
    later += ["database", "client", "backend_type"]
    return [c for c in FIRST_COLUMNS + later if c in display.columns]


def tree_table_config() -> dict:
    return {
        "tree": st.column_config.TextColumn("Session (pid)", width=110),
        "application": st.column_config.TextColumn("Application", width=140),
        "state": st.column_config.TextColumn("State", width=110),
        "seconds": st.column_config.NumberColumn("For (s)", format="%.1f", width=70),
        "wants": st.column_config.TextColumn("Wants (lock mode on)", width=260),
        "parent_holds": st.column_config.TextColumn("Session above holds", width=150),
        "blocked_by": "Blocked by",
        "waiting_behind": "Sessions waiting behind it",
        "user": "User",
        "query": st.column_config.TextColumn("Query", width="large"),
    }


TREE_ORDER = [
    "tree",
    "application",
    "state",
    "seconds",
    "wants",
    "parent_holds",
    "query",
    "blocked_by",
    "waiting_behind",
    "user",
]


def audit_table(frame: pd.DataFrame) -> None:
    """The audit log with the outcome first and the query last."""
    order = ["at", "outcome", "action", "pid", "actor", "target_user", "target_application", "detail", "query"]
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_order=[c for c in order if c in frame.columns],
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "outcome": "Outcome",
            "action": "Action",
            "pid": st.column_config.NumberColumn("PID", format="%d"),
            "actor": "By",
            "target_user": "Session user",
            "target_application": "Application",
            "target_database": "Database",
            "detail": st.column_config.TextColumn("Detail", width="large"),
            "query": "Query",
        },
    )


def _text(value, default: str = "") -> str:
    """A text cell, or `default` for None/NaN (hidden rows have no state, pandas makes it NaN)."""
    return value if isinstance(value, str) and value else default


def _label(row: dict) -> str:
    parts = [str(row["pid"]), _text(row["user"]), _text(row["application"], "(no application)")]
    return " · ".join([p for p in parts if p] + [_text(row["state"], "hidden")])


def picked_pid(event, display: pd.DataFrame) -> int | None:
    """The pid of the row picked in a table drawn with on_select (None when none is)."""
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if not rows or rows[0] >= len(display):
        return None
    return int(display.iloc[rows[0]]["pid"])


def _when(value, seconds: float | None) -> str:
    if value is None or pd.isna(value):
        return "-"
    if seconds is None or pd.isna(seconds):
        exact = ""
    elif seconds < 60:
        exact = f" ({seconds:.1f} s ago)"
    else:
        exact = f" ({sessions.humanise(seconds)} ago, {seconds:.1f} s)"
    return f"{pd.Timestamp(value).tz_convert('UTC'):%Y-%m-%d %H:%M:%S} UTC{exact}"


def session_panel(shown: pd.DataFrame, picked: int | None = None) -> None:
    """Whole query of the session picked in a table (or here) and, for a signed-in admin, cancel /
    terminate behind a confirmation."""
    st.subheader("Session")
    _show_results()
    if PENDING in st.session_state:
        _confirmation()
        return
    rows = {int(r["pid"]): r for r in shown.to_dict("records")}
    if picked in rows and st.session_state.get("sessions-picked") != picked:
        st.session_state["sessions-pid"] = picked  # a row picked in the table or the tree drives the choice
    st.session_state["sessions-picked"] = picked
    if rows:
        pid = st.selectbox(
            "Session (pick a row in the table or the blocking tree, or choose here)",
            list(rows),
            format_func=lambda p: _label(rows[p]),
            key="sessions-pid",
        )
        row = rows[pid]
        blockers = ", ".join(map(str, row["blocked_by"])) or "none"
        wait = sessions.wait_text(row) or "nothing"
        st.caption(f"State {_text(row['state'], 'hidden')} · waits for {wait} · blocked by {blockers}")
        st.caption(
            f"Query start {_when(row.get('query_start'), row.get('query_seconds'))} · "
            f"transaction start {_when(row.get('xact_start'), row.get('transaction_seconds'))} · "
            f"connected {_when(row.get('backend_start'), row.get('connected_seconds'))}"
        )
        st.code(_text(row["query"]), language="sql", wrap_lines=True)
    else:
        row = None
        st.caption("No session matches the filters.")

    if not is_admin():
        st.caption("Cancelling and terminating sessions needs an admin.")
        with st.expander("Admin sign-in"):
            sign_in_form()
        return
    if row is not None:
        target = sessions.SessionChoice.from_row(row)
        if target.is_dashboard:
            st.caption("This is one of the dashboard's own sessions: it cannot be cancelled or terminated here.")
        cancel_col, terminate_col = st.columns(2)
        if cancel_col.button(
            "Cancel query…",
            key="sessions-cancel",
            disabled=target.is_dashboard,
            help="pg_cancel_backend: stops the running query; the session stays connected",
        ):
            _ask("cancel", [target])
        if terminate_col.button(
            "Terminate session…",
            key="sessions-terminate",
            disabled=target.is_dashboard,
            help="pg_terminate_backend: ends the session and rolls back its transaction",
        ):
            _ask("terminate", [target])
    if st.button(
        "Terminate all other sessions of this database…",
        key="sessions-terminate-all",
        help="For when the database must be dropped; the dashboard's own sessions are kept",
    ):
        with database_guard("the sessions to terminate"):
            targets = sessions.terminate_candidates()
        if targets:
            _ask("terminate", targets)
        else:
            st.info("No other client session is connected to this database.")
    with st.expander("Audit log"), database_guard("the audit log"):
        audit_table(session_actions.recent_audit())


def _ask(action: str, targets: list[sessions.SessionChoice]) -> None:
    st.session_state[PENDING] = (action, targets)
    st.session_state.pop(RESULTS, None)
    st.rerun()


def _confirmation() -> None:
    action, targets = st.session_state[PENDING]
    verb = "Cancel the running query of" if action == "cancel" else "Terminate"
    effect = (
        "The query stops with an error; the session stays connected."
        if action == "cancel"
        else "The session is disconnected and its open transaction rolled back."
    )
    with st.container(border=True):
        st.warning(f"**{verb} {len(targets)} session(s)?** {effect}", icon=":material/warning:")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "pid": t.pid,
                        "user": t.user,
                        "application": t.application,
                        "database": t.database,
                        "query": t.query,
                    }
                    for t in targets
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        if len(targets) == 1:
            st.code(targets[0].query or "", language="sql", wrap_lines=True)
        yes, no = st.columns(2)
        if yes.button(f"Yes, {action}", type="primary", key="sessions-confirm"):
            actor = require_admin()  # checked again at the moment of acting
            del st.session_state[PENDING]
            with database_guard(f"the {action} action"):  # e.g. the audit file not writable
                st.session_state[RESULTS] = [session_actions.signal_session(action, t, actor=actor) for t in targets]
            st.rerun()
        if no.button("No, go back", key="sessions-back"):
            del st.session_state[PENDING]
            st.rerun()


def _show_results() -> None:
    for outcome in st.session_state.get(RESULTS, []):
        (st.success if outcome.ok else st.error)(outcome.message)
