"""Admin: post an activity live, load demo data. Signed-in admins only."""

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
    with database_guard("the list of handles"):
        known = handles()
    handle = st.selectbox(
        "Author handle",
        known,
        index=None,
        accept_new_options=True,
        key="handle",
        placeholder="Search existing handles or type one",
    )
    handle_slot = st.empty()
    message = st.text_area("Message", key="message", placeholder="What's happening?")
    count = char_count(message)
    st.caption(f":{'red' if count > MAX_CHARS else 'gray'}[{count} / {MAX_CHARS} characters]")
    message_slot = st.empty()
    ttl = st.selectbox("TTL", list(TTLS), index=None, key="ttl", placeholder="How long the post lives")
    ttl_slot = st.empty()
    if st.button("Create activity", type="primary", icon=":material/send:"):
        try:
            created = attempt(
                lambda: create_activity(handle=handle, message=message, ttl=ttl, by=admin),
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
                st.success("Posted. Read back from the database (times in UTC):", icon=":material/check_circle:")
                st.dataframe(presentable(created), hide_index=True, width="stretch")

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
        bar = st.progress(0.0, text="Starting…")
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
        if result is not None:
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
