"""How fresh the numbers on a page are, in calm words, kept current without a rerun.

The page reads inside `queries.reads.recording()` and hands what it saw to
`freshness()`: a fragment that redraws only the freshness line every POLL_S
seconds. Each tick costs a few dictionary lookups (`reads.changed`); only when a
newer result has been stored (a background refresh landed) or the database
stopped or started answering does it rerun the whole page, once. Expired
results are refreshed in the background by the same tick (`reads.revalidate`),
so an open page stays current by itself.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import streamlit as st

from db.settings import get_settings
from queries import reads

POLL_S = 5


def age_words(seconds: float) -> str:
    """'just now', '40 s ago', '2 min ago', '3 h ago', '2 days ago'."""
    seconds = max(0, int(seconds))
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(tz))


def freshness_text(computed_at: datetime, tz: str, *, refreshing: bool, now: datetime | None = None) -> str:
    """'As of 14:05 UTC, Fri 27 Nov · updated 2 min ago · refreshing': the exact time the
    numbers were read, then how long ago that is in plain words."""
    now = now or datetime.now(UTC)
    at = local(computed_at, tz)
    text = f"As of {at:%H:%M} {tz}, {at:%a %d %b} · updated {age_words((now - computed_at).total_seconds())}"
    return text + (" · refreshing" if refreshing else "")


def exact(computed_at: datetime, tz: str) -> str:
    """The tooltip: to the second, in the report zone and in UTC."""
    at = local(computed_at, tz)
    return f"Numbers read from the database at {at:%H:%M:%S} on {at:%A %d %B %Y} ({tz}; {computed_at:%H:%M:%S} UTC)."


def outage_text(since: datetime, computed_at: datetime, tz: str) -> str:
    """'Database unreachable since 14:02 · showing numbers as of 13:58'."""
    return (
        f"Database unreachable since {local(since, tz):%H:%M} · showing numbers as of "
        f"{local(computed_at, tz):%H:%M} ({tz}). They update by themselves when it answers again."
    )


@st.fragment(run_every=POLL_S)
def freshness(seen: dict, computed_at: datetime, tz: str, outage_at_render: datetime | None) -> None:
    """The freshness line (and the outage banner) for what the page showed (`seen`,
    from reads.recording()); reruns the page once when something newer is there."""
    since = reads.outage_since()
    ttl = get_settings().cache_ttl
    # Without a cache (CACHE_TTL=0) every run reads anew, so one tab's read would make
    # every other tab rerun, and theirs this one: then only the outage state is watched.
    if since != outage_at_render or (ttl > 0 and reads.changed(seen)):
        st.rerun(scope="app")
    expired = reads.revalidate(seen)
    if since is not None:
        st.warning(outage_text(since, computed_at, tz), icon=":material/cloud_off:")
    age = (datetime.now(UTC) - computed_at).total_seconds()
    refreshing = since is None and (expired > 0 or (ttl > 0 and age >= ttl))
    st.caption(freshness_text(computed_at, tz, refreshing=refreshing), help=exact(computed_at, tz))
