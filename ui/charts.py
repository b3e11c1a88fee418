"""Charts on the page: one call for every page, with each dataset turned into Arrow once.

Streamlit turns every dataset of a Vega-Lite spec into Arrow bytes on each call
(a DataFrame, then Arrow: a few ms a chart, on every view). Altair names a
dataset by a hash of its rows ("data-<hash>"), so the bytes are kept by that
name; the spec itself is never changed (the image downloads use it as it is).
"""

from __future__ import annotations

import threading

import streamlit as st
from streamlit import dataframe_util

_KEPT = 256
_arrow: dict[str, bytes] = {}
_lock = threading.Lock()


def _arrow_of(name: str, rows: object) -> object:
    if not name.startswith("data-") or not isinstance(rows, list):
        return rows  # not one of Altair's content-named datasets: Streamlit converts it
    with _lock:
        found = _arrow.get(name)
    if found is None:
        found = dataframe_util.convert_anything_to_arrow_bytes(rows)
        with _lock:
            _arrow[name] = found
            while len(_arrow) > _KEPT:
                del _arrow[next(iter(_arrow))]
    return found


def show_chart(spec: dict, **kwargs) -> None:
    """st.vega_lite_chart(spec) with its datasets' Arrow bytes made once per content."""
    datasets = spec.get("datasets")
    if datasets:
        spec = {**spec, "datasets": {name: _arrow_of(name, rows) for name, rows in datasets.items()}}
    st.vega_lite_chart(spec, **kwargs)
