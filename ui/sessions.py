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


def metrics_row(snap: sessions.Snapshot) -> None:
    c = snap.counts()
    lim = snap.limits
    cols = st.columns(5)
    cols[0].metric("Sessions", c["sessions"], border=True)
    cols[1].metric("Active", c["active"], border=True)
    cols[2].metric(f"Long-running (≥ {lim.long_query_s:g} s)", c["long_running"], border=True)
    cols[3].metric(f"Idle in transaction (≥ {lim.idle_in_transaction_s:g} s)", c["idle_in_transaction"], border=True)
    cols[4].metric("Blocked", c["blocked"], border=True)


def flag_rows(display: pd.DataFrame, shown: pd.DataFrame):
    """Highlight long-running, idle-in-transaction and blocked rows (display and shown share row order)."""
    flags = shown[["long_running", "idle_in_transaction", "blocked"]].reset_index(drop=True)

    def style(row: pd.Series) -> list[str]:
        f = flags.loc[row.name]
        css = LONG if f.long_running else IDLE_TX if f.idle_in_transaction else BLOCKED if f.blocked else ""
        return [css] * len(row)

    return display.style.apply(style, axis=1)


def session_table_config() -> dict:
    seconds = "%.1f s"
    return {
        "pid": st.column_config.NumberColumn("PID", format="%d"),
        "user": "User",
        "database": "Database",
        "application": "Application",
        "client": "Client",
        "backend_type": "Backend",
        "state": "State",
        "wait_event_type": "Wait type",
        "wait_event": "Wait event",
        "query_seconds": st.column_config.NumberColumn("Query running", format=seconds),
        "transaction_seconds": st.column_config.NumberColumn("Transaction open", format=seconds),
        "connected_seconds": st.column_config.NumberColumn("Connected", format=seconds),
        "blocked_by": "Blocked by",
        "flags": "Flags",
        "query": st.column_config.TextColumn("Query", width="large"),
    }


def tree_table_config() -> dict:
    return {
        "tree": "Session (pid)",
        "blocked_by": "Blocked by",
        "waiting_behind": "Sessions waiting behind it",
        "user": "User",
        "application": "Application",
        "state": "State",
        "wait_event": "Wait event",
        "seconds": st.column_config.NumberColumn("For", format="%.1f s"),
        "query": st.column_config.TextColumn("Query", width="large"),
    }


def _label(row: dict) -> str:
    return f"{row['pid']} · {row['user'] or '?'} · {row['application'] or '-'} · {row['state'] or 'hidden'}"


def session_panel(shown: pd.DataFrame) -> None:
    """Whole query of a chosen session and, for a signed-in admin, cancel / terminate behind a confirmation."""
    st.subheader("Session")
    _show_results()
    if PENDING in st.session_state:
        _confirmation()
        return
    rows = {int(r["pid"]): r for r in shown.to_dict("records")}
    if rows:
        pid = st.selectbox("Choose a session", list(rows), format_func=lambda p: _label(rows[p]), key="sessions-pid")
        row = rows[pid]
        blockers = ", ".join(map(str, row["blocked_by"])) or "none"
        st.caption(
            f"State {row['state'] or 'hidden'} · wait {row['wait_event_type'] or '-'}/{row['wait_event'] or '-'}"
            f" · blocked by {blockers}"
        )
        st.code(row["query"] or "", language="sql", wrap_lines=True)
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
        st.dataframe(session_actions.recent_audit(), hide_index=True, width="stretch")


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
