"""Download buttons for tables, charts and raw extracts; the files come from
queries.exports, the same code `python -m queries export` uses."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from queries import exports

STYLE_KEY = "provenance_style"


def provenance_style() -> str:
    """The analyst's choice, asked once per page: 'header' or 'sidecar'."""
    return st.radio("Provenance in downloads", list(exports.STYLES), key=STYLE_KEY, horizontal=True,
                    format_func=exports.STYLES.get,
                    help="Where each file says when, how and from what it was made: a first `# ...` line "
                         "(Parquet: file metadata), or a separate .provenance.json file.")


def table_downloads(frame: pd.DataFrame, provenance: exports.Provenance, stem: str, *, key: str) -> None:
    """CSV and Parquet of a table exactly as shown (and sidecars when chosen), in one row.
    Each file is made when its button is clicked, not on every run of the page."""
    style = st.session_state.get(STYLE_KEY, "header")
    files = [(fmt, name, mime) for fmt in exports.FORMATS
             for name, mime in exports.aggregate_names(fmt=fmt, style=style, stem=stem)]

    def made(fmt: str, name: str) -> bytes:
        return next(f.data for f in exports.aggregate_files(frame, provenance, fmt=fmt, style=style, stem=stem)
                    if f.name == name)

    for column, (fmt, name, mime) in zip(st.columns(len(files)), files):
        label = "Provenance JSON" if name.endswith(".provenance.json") else f"Download {fmt.upper()}"
        column.download_button(label, lambda fmt=fmt, name=name: made(fmt, name), file_name=name, mime=mime,
                               key=f"{key}-{name}", icon=":material/download:", on_click="ignore", width="stretch")


def chart_downloads(chart, stem: str, *, key: str) -> None:
    """PNG and SVG of a chart, rendered only when clicked (vl-convert takes a moment)."""
    for column, fmt in zip(st.columns(len(exports.IMAGE_FORMATS)), exports.IMAGE_FORMATS):
        column.download_button(f"Chart as {fmt.upper()}", lambda fmt=fmt: exports.chart_image(chart, fmt),
                               file_name=f"{stem}.{fmt}", mime=exports.IMAGE_FORMATS[fmt], key=f"{key}-{fmt}",
                               icon=":material/image:", on_click="ignore", width="stretch")


def raw_download(kind: str, *, tz: str, start_day: date, end_day: date, max_rows: int | None, key: str) -> None:
    """A raw extract made when clicked (see queries.exports.raw_bytes: COPY into a
    temporary file, then the finished file as bytes, since Streamlit serves
    downloads from memory). With sidecar provenance the click gives a ZIP."""
    style = st.session_state.get(STYLE_KEY, "header")
    name = exports.raw_file_name(kind, start_day, end_day)
    zip_it = style == "sidecar"

    def extract() -> bytes:
        return exports.raw_bytes(kind, tz=tz, start_day=start_day, end_day=end_day, style=style, max_rows=max_rows)[0]

    st.download_button(f"Download raw {kind} ({'ZIP: CSV + JSON' if zip_it else 'CSV'})", extract,
                       file_name=name.removesuffix(".csv") + ".zip" if zip_it else name,
                       mime="application/zip" if zip_it else "text/csv", key=f"{key}-{style}",
                       icon=":material/download:", on_click="ignore")
