"""Helpers every page uses, so that pages read as short stories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache

import pandas as pd
import streamlit as st

from db import conninfo
from db.errors import DatabaseUnavailable, public_detail, safe_message
from db.logs import logger
from db.settings import ConfigError, get_settings, known_zone_names

log = logger("cruddur.page")

COMMON_ZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Lagos",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]


# IANA's areas: leaves out Etc/GMT+5 (whose sign reads backwards) and the old
# country aliases (US/Eastern, Canada/Pacific) that repeat a place's zone.
AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


@cache
def zone_choices(default: str) -> tuple[str, ...]:
    """The sidebar's zones: REPORT_TZ, the common ones, then every other place's zone
    A-Z (the box filters as one types: "Havana" finds America/Havana)."""
    places = sorted(name for name in known_zone_names() if name.startswith(AREAS))
    return tuple(dict.fromkeys([default, *COMMON_ZONES, *places]))


def report_tz() -> str:
    """The report time zone: the sidebar's choice, else REPORT_TZ."""
    return st.session_state.get("report_tz") or get_settings().report_tz


def sidebar() -> None:
    """Drawn once by dashboard.py for every page."""
    try:
        settings = get_settings()
    except ConfigError as exc:
        st.sidebar.error(str(exc))
        return
    zones = zone_choices(settings.report_tz)
    if "report_tz" not in st.session_state:
        st.session_state["report_tz"] = settings.report_tz
    from db.settings import valid_timezone
    from ui.view_params import adopt_tz, publish_tz

    tz_note = adopt_tz(valid_timezone)  # a shared link's ?tz= (Explore puts it there)
    if st.session_state["report_tz"] not in zones:
        zones = (*zones, st.session_state["report_tz"])
    st.sidebar.selectbox(
        "Report time zone",
        zones,
        key="report_tz",
        help="Days are calendar days in this zone. The default comes from REPORT_TZ.",
    )
    publish_tz(st.session_state["report_tz"])
    if tz_note:
        st.sidebar.warning(tz_note, icon=":material/link_off:")
    from ui.auth import is_admin, sign_out_button
    from ui.cache_panel import cache_panel

    # Where the database lives, the cache and its counters are for signed-in admins;
    # a visitor (a CEO presenting) sees the time zone and nothing technical.
    if is_admin():
        target = "production" if settings.is_prod else "development"
        st.sidebar.caption(f"Database ({target}): `{conninfo.describe(settings.database_url)}`")
        cache_panel()
    sign_out_button()


@contextmanager
def database_guard(what: str = "this page") -> Iterator[None]:
    """Turn any failure into a plain message with a Retry button, then stop the page.
    Streamlit's own control flow (rerun, stop) derives from BaseException and passes."""
    try:
        yield
    except DatabaseUnavailable as exc:
        _failure("The database is unavailable right now.", str(exc), exc, what)
    except ConfigError as exc:
        _failure("The dashboard is not configured.", str(exc), exc, what)
    except Exception as exc:
        _failure(f"Could not load {what}.", safe_message(exc), exc, what)


RETRY_EVERY_S = 5


def _known_outage() -> bool:
    """Whether the read layer has already logged this outage (once per change of state)."""
    from queries.reads import outage_since

    return outage_since() is not None


def _failure(headline: str, detail: str, exc: BaseException, what: str) -> None:
    from ui.auth import is_admin

    if isinstance(exc, DatabaseUnavailable) and _known_outage():
        log.debug("%s failed: the database is still unreachable", what, exc_info=True)  # said once already
    else:
        log.warning("%s failed: %s %s", what, headline, detail, exc_info=True)  # called in database_guard's except
    if not is_admin():  # where the database lives, and how it is set up, is for admins
        detail = public_detail(exc)
    st.error(f"**{headline}** {detail}", icon=":material/cloud_off:")
    if st.button("Retry", key=f"retry-{what}", type="primary"):
        st.rerun()
    _auto_retry()
    st.stop()


@st.fragment(run_every=RETRY_EVERY_S)
def _auto_retry() -> None:
    """While a page shows a failure, ask the database every few seconds and
    rerun the whole page once it answers, so nobody has to press Retry."""
    armed = st.session_state.get("_auto_retry_armed", False)
    st.session_state["_auto_retry_armed"] = True
    if armed:
        from queries.reads import fetch

        try:
            fetch("admin.ping")
        except Exception:  # expected while the database is down: debug only
            log.debug("database still unavailable", exc_info=True)
        else:
            st.session_state["_auto_retry_armed"] = False
            st.rerun(scope="app")
    st.caption(f"Trying again automatically every {RETRY_EVERY_S} s.")


def as_of_line(computed_at: datetime, tz: str, from_cache: bool = True, stale: bool = False) -> str:
    """'As of 14:05 Europe/Berlin, Fri 27 Nov · updated 2 min ago' (ui.freshness, the one
    wording of every page); a stale result adds '· refreshing' (its refresh runs in the
    background). `from_cache` no longer changes the words: the age says it all."""
    from ui.freshness import freshness_text

    return freshness_text(computed_at, tz, refreshing=stale)


def csv_download(frame: pd.DataFrame, file_name: str, *, key: str, label: str = "Download CSV") -> None:
    from exports.formats import to_csv

    st.download_button(label, to_csv(frame), file_name=file_name, mime="text/csv", key=key, icon=":material/download:")
