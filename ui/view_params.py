"""A page's choices in its URL (`st.query_params`), so that a copied link opens the same view.

Each choice is a `Param`: a query parameter bound to a widget's session key. A
page calls `adopt` before it draws its widgets and `publish` after: a value that
arrived in the URL (a shared link, or the browser's back button) is given to its
widget once; a value that cannot be used becomes the default, with a note, never
an error; then the URL is rewritten to the view as shown. The report time zone is
a sidebar widget drawn before any page, so the sidebar adopts `tz` itself
(`adopt_tz`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st

_SEEN = "_url_params_seen"  # parameter -> the URL text last adopted or published
_TZ_NOTE = "_url_tz_note"  # (the zone shown instead, the note) after a link's unknown zone


@dataclass(frozen=True)
class Param:
    name: str  # in the URL
    key: str  # the widget's session key
    parse: Callable[[str], Any]  # URL text -> widget value; ValueError when unusable
    show: Callable[[Any], str]  # widget value -> URL text
    default: Callable[[], Any]

    @staticmethod
    def choice(name: str, key: str, options: Collection[str], default: str) -> Param:
        def parse(text: str) -> str:
            if text not in options:
                raise ValueError(f"choose one of {', '.join(options)}")
            return text

        return Param(name, key, parse, str, lambda: default)

    @staticmethod
    def flag(name: str, key: str) -> Param:
        def parse(text: str) -> bool:
            if text.lower() not in ("true", "false"):
                raise ValueError("true or false")
            return text.lower() == "true"

        return Param(name, key, parse, lambda v: "true" if v else "false", lambda: False)

    @staticmethod
    def date_range(name: str, key: str, earliest: date, latest: Callable[[], date], default) -> Param:
        """`YYYY-MM-DD..YYYY-MM-DD`, both ends included, within [earliest, latest()]."""

        def parse(text: str) -> tuple[date, date]:
            try:
                start, end = (date.fromisoformat(part) for part in text.split(".."))
            except ValueError:
                raise ValueError("dates as YYYY-MM-DD..YYYY-MM-DD") from None
            if start > end:
                raise ValueError(f"{start} is after {end}")
            if start < earliest or end > latest():
                raise ValueError(f"dates from {earliest} to {latest()} (today)")
            return start, end

        return Param(name, key, parse, lambda v: f"{v[0]}..{v[1]}", default)


def quoted(text: str, limit: int = 60) -> str:
    """A URL value to show inside a code span: cut, without backticks or line
    breaks, so that a crafted link cannot end the span and add Markdown (a link,
    an image) to the page."""
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return "`" + " ".join(cut.replace("`", "'").split()) + "`"


def _seen() -> dict[str, str]:
    return st.session_state.setdefault(_SEEN, {})


def adopt(params: Collection[Param]) -> list[str]:
    """Give each widget the value its URL parameter brought, when the URL holds a
    value not adopted or published before, else its default on the first run; the
    notes say what was refused. The widgets take no default of their own."""
    seen, notes = _seen(), []
    for param in params:
        # The widget's first value comes from here, not from its own default: Streamlit
        # warns (a stack trace in the server log) when a widget has both.
        st.session_state.setdefault(param.key, param.default())
        text = st.query_params.get(param.name)
        if text is None or seen.get(param.name) == text:
            continue
        seen[param.name] = text
        try:
            value = param.parse(text)
        except ValueError as exc:
            value = param.default()
            notes.append(
                f"The link's {quoted(f'{param.name}={text}')} cannot be used ({exc}); "
                f"showing `{param.show(value)}` instead."
            )
        st.session_state[param.key] = value
    return notes


def publish(values: dict[str, str | None]) -> None:
    """The view as shown, into the URL (a parameter whose value is None is removed)."""
    seen = _seen()
    for name, text in values.items():
        if text is None:
            st.query_params.pop(name, None)
            seen.pop(name, None)
        elif st.query_params.get(name) != text:
            st.query_params[name] = text
            seen[name] = text
        else:
            seen[name] = text


def adopt_tz(valid: Callable[[str], str]) -> str | None:
    """The sidebar's part of `adopt`: a `tz` in the URL becomes the report time
    zone (`valid` raises ValueError for an unknown zone). An unknown one leaves
    the zone as it was, names itself in a note that stays while that zone is
    shown (a page's later reruns included), and gives way in the URL to the zone
    shown."""
    text = st.query_params.get("tz")
    seen = _seen()
    if text is not None and seen.get("tz") != text:
        seen["tz"] = text
        st.session_state.pop(_TZ_NOTE, None)
        try:
            st.session_state["report_tz"] = valid(text)
        except ValueError:
            shown = st.session_state.get("report_tz")
            if shown:
                named = f"time zone {quoted(text)} is not known" if text.strip() else "time zone is empty"
                note = f"The link's {named}; showing {shown}."
                st.session_state[_TZ_NOTE] = (shown, note)
                st.query_params["tz"] = seen["tz"] = shown
    kept = st.session_state.get(_TZ_NOTE)
    if kept and kept[0] == st.session_state.get("report_tz"):
        return kept[1]
    st.session_state.pop(_TZ_NOTE, None)  # another zone was chosen since
    return None


def publish_tz(shown: str) -> None:
    """After the sidebar's zone box: a `tz` in the URL follows the zone shown, so a
    reload or a copied link opens the view on screen (a URL without one stays so)."""
    if st.query_params.get("tz") not in (None, shown):
        st.query_params["tz"] = _seen()["tz"] = shown
