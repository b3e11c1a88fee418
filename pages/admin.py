"""Admin: post an activity live, load demo data. Signed-in admins only."""

import uuid

import streamlit as st

from actions.activities import MAX_CHARS, TTLS, ActivityRejected, char_count, create_activity, handles
from db.guard import production, refusal
from exports.formats import presentable
from seed import DEMO, actions
from ui.admin import attempt, progress_reporter
from ui.auth import require_admin
from ui.common import database_guard
from web.routing import ensure_routed

ensure_routed()

st.title("Admin")
admin = require_admin()
st.caption(f"Signed in as **{admin}**. Every action here writes to the database.")
with database_guard("the admin page"):
    refused = refusal("write from the Admin page")
if refused:
    st.warning(refused, icon=":material/block:")

create_tab, seed_tab = st.tabs(["Create activity", "Seed data"])

with create_tab:
    # Each rendering of the form has its own widgets and idempotency key: after a post
    # the next one starts empty, and a second click on the old form's button (or a
    # resubmission) finds no widget to trigger and a key already used.
    form = st.session_state.setdefault("activity_form", {"token": uuid.uuid4().hex, "round": 0})
    key = f"{form['token']}:{form['round']}"
    posted = st.session_state.pop("activity_posted", None)
    if posted is not None:
        st.success(posted["text"], icon=":material/check_circle:")
        st.dataframe(posted["row"], hide_index=True, width="stretch")
    with database_guard("the list of handles"):
        known = handles(fresh=True)  # the picker offers only people who exist, newcomers included
    handle = st.selectbox(
        "Author handle",
        known,
        index=None,
        key=f"handle-{key}",
        placeholder="Search existing handles",
        help="Only people who exist can post; type to search.",
    )
    handle_slot = st.empty()
    message = st.text_area("Message", key=f"message-{key}", placeholder="What's happening?")
    count = char_count(message)
    st.caption(f":{'red' if count > MAX_CHARS else 'gray'}[{count} / {MAX_CHARS} characters]")
    message_slot = st.empty()
    ttl = st.selectbox("TTL", list(TTLS), index=None, key=f"ttl-{key}", placeholder="How long the post lives")
    ttl_slot = st.empty()
    if st.button("Create activity", type="primary", icon=":material/send:", key=f"create-{key}"):
        try:
            created = attempt(
                lambda: create_activity(handle=handle, message=message, ttl=ttl, by=admin, idempotency_key=key),
                "create the activity",
                reraise=(ActivityRejected,),
            )
        except ActivityRejected as exc:
            slots = {"handle": handle_slot, "message": message_slot, "ttl": ttl_slot}
            for field in slots:
                texts = [str(p) for p in exc.problems if p.field == field]
                if texts:
                    slots[field].error("  \n".join(texts))
            st.error(f"Nothing was written: {len(exc.problems)} problem(s) above.")
        else:
            if created is not None:
                # What was stored goes in the table only: text in a message box would be Markdown.
                st.session_state["activity_posted"] = {
                    "text": f"Posted. The form is empty again; this is the post ({ttl}) as read back from "
                    "the database (times in UTC):",
                    "row": presentable(created),
                }
                form["round"] += 1  # a new, empty form with a new key
                st.rerun()

with seed_tab:
    counts_slot = st.empty()  # filled last, so it shows the counts after any action below
    with database_guard("the production check"):
        verdict = production()
    if verdict.is_prod:
        st.warning(
            f"This database is production ({verdict.reason}): demo data and resets never run here, "
            "whatever ALLOW_PROD_WRITES says.",
            icon=":material/block:",
        )

    st.subheader("Sample rows")
    st.caption("The original project's four users and one post. Running it again adds nothing.")
    if st.button("Load sample rows", icon=":material/playlist_add:"):
        added = attempt(lambda: actions.seed_sample(by=admin), "load the sample rows")
        if added is not None:
            st.success(
                f"Added {added[0]} user(s) and {added[1]} post(s)."
                if any(added)
                else "Nothing to add: the sample rows are already there."
            )

    st.subheader("Synthetic data")
    st.caption("Users and posts on a growth curve, loaded with COPY and added to what is there.")
    c1, c2, c3, c4 = st.columns(4)
    n_users = c1.number_input("Users", min_value=0, max_value=5_000_000, value=DEMO["users"], step=1000)
    n_posts = c2.number_input("Posts", min_value=0, max_value=20_000_000, value=DEMO["posts"], step=10_000)
    n_days = c3.number_input("Days of history", min_value=1, max_value=3650, value=DEMO["days"])
    rng_seed = c4.number_input("Random seed", min_value=0, max_value=2**32 - 1, value=DEMO["seed"])
    if st.button("Generate", icon=":material/auto_awesome:"):
        slot = st.empty()  # the bar goes when the run fails: a refusal is the one thing left
        bar = slot.progress(0.0, text="Starting…")
        result = attempt(
            lambda: actions.seed_generate(
                users=int(n_users),
                posts=int(n_posts),
                days=int(n_days),
                seed=int(rng_seed),
                progress=progress_reporter(bar),
                by=admin,
            ),
            "generate data",
        )
        if result is None:
            slot.empty()
        else:
            st.success(
                f"Added {result.users:,} users and {result.posts:,} posts in {result.seconds:.1f} s "
                f"({result.rows_per_second:,.0f} rows/s)."
            )

    st.subheader("Reset")
    confirmed = st.checkbox("I understand that reset deletes every user and every post.", key="confirm_reset")
    if st.button("Reset users and posts", icon=":material/delete_forever:") and attempt(
        lambda: actions.reset(confirmed=confirmed, by=admin) or True, "reset"
    ):
        st.success("Users and posts emptied.")

    with database_guard("the row counts"):
        users, posts = actions.row_counts()
    with counts_slot.container():
        left, right = st.columns(2)
        left.metric("Users", f"{users:,}", border=True)
        right.metric("Posts", f"{posts:,}", border=True)
