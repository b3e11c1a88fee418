"""Download buttons for tables, charts and raw extracts; the files come from
queries.exports, the same code `python -m queries export` uses."""
from __future__ import annotations

import tempfile
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
    """CSV and Parquet of a table exactly as shown (and sidecars when chosen), in one row."""
    style = st.session_state.get(STYLE_KEY, "header")
    files = [f for fmt in exports.FORMATS
             for f in exports.aggregate_files(frame, provenance, fmt=fmt, style=style, stem=stem)]
    for column, f in zip(st.columns(len(files)), files):
        label = "Provenance JSON" if f.name.endswith(".provenance.json") else f"Download {f.name.rsplit('.', 1)[1].upper()}"
        column.download_button(label, f.data, file_name=f.name, mime=f.mime, key=f"{key}-{f.name}",
                               icon=":material/download:", on_click="ignore", width="stretch")


def chart_downloads(chart, stem: str, *, key: str) -> None:
    """PNG and SVG of a chart, rendered only when clicked (vl-convert takes a moment)."""
    for column, fmt in zip(st.columns(len(exports.IMAGE_FORMATS)), exports.IMAGE_FORMATS):
        column.download_button(f"Chart as {fmt.upper()}", lambda fmt=fmt: exports.chart_image(chart, fmt),
                               file_name=f"{stem}.{fmt}", mime=exports.IMAGE_FORMATS[fmt], key=f"{key}-{fmt}",
                               icon=":material/image:", on_click="ignore", width="stretch")


def raw_download(kind: str, *, tz: str, start_day: date, end_day: date, max_rows: int | None, key: str) -> None:
    """A raw extract made when clicked. COPY streams into a temporary file, so the
    database read never holds the rows in memory; Streamlit's download_button then
    needs the finished file as bytes (it serves downloads from memory), so the page
    holds one copy of the file while serving it. The CLI streams with flat memory.
    With sidecar provenance the click gives a ZIP of the CSV and its JSON, because
    the JSON must describe the very snapshot the CSV came from."""
    style = st.session_state.get(STYLE_KEY, "header")
    name = exports.raw_file_name(kind, start_day, end_day)

    def extract() -> bytes:
        with tempfile.TemporaryFile() as csv_file:
            result = exports.stream_raw(kind, csv_file, tz=tz, start_day=start_day, end_day=end_day, style=style,
                                        max_rows=max_rows)
            csv_file.seek(0)
            if style == "header":
                return csv_file.read()
            with tempfile.TemporaryFile() as zipped:
                exports.zip_with_sidecar(zipped, csv_file, name, result.provenance)
                zipped.seek(0)
                return zipped.read()

    zip_it = style == "sidecar"
    st.download_button(f"Download raw {kind} ({'ZIP: CSV + JSON' if zip_it else 'CSV'})", extract,
                       file_name=name.removesuffix(".csv") + ".zip" if zip_it else name,
                       mime="application/zip" if zip_it else "text/csv", key=f"{key}-{style}",
                       icon=":material/download:", on_click="ignore")
