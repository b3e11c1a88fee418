"""Download buttons for tables and charts, and links to raw extracts streamed by
the server; the files come from exports.files and exports.raw, the same code
`python -m queries export` uses."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from db.settings import ConfigError
from exports import files, raw
from web import export_route, signing

STYLE_KEY = "provenance_style"


def provenance_style() -> str:
    """The analyst's choice, asked once per page: 'header' or 'sidecar'."""
    return st.radio(
        "Provenance in downloads",
        list(files.STYLES),
        key=STYLE_KEY,
        horizontal=True,
        format_func=files.STYLES.get,
        help="Where each file says when, how and from what it was made: a first `# ...` line "
        "(Parquet: file metadata), or a separate .provenance.json file.",
    )


def table_downloads(frame: pd.DataFrame, provenance: files.Provenance, stem: str, *, key: str) -> None:
    """CSV and Parquet of a table exactly as shown (and sidecars when chosen), in one row.
    Each file is made when its button is clicked, not on every run of the page."""
    style = st.session_state.get(STYLE_KEY, "header")
    choices = [
        (fmt, name, mime)
        for fmt in files.FILE_FORMATS
        for name, mime in files.aggregate_names(fmt=fmt, style=style, stem=stem)
    ]

    def made(fmt: str, name: str) -> bytes:
        return next(
            f.data for f in files.aggregate_files(frame, provenance, fmt=fmt, style=style, stem=stem) if f.name == name
        )

    row = st.container(horizontal=True)  # one block, not one per button: less for the browser to build
    for fmt, name, mime in choices:
        label = "Provenance JSON" if name.endswith(".provenance.json") else f"Download {fmt.upper()}"
        row.download_button(
            label,
            lambda fmt=fmt, name=name: made(fmt, name),
            file_name=name,
            mime=mime,
            key=f"{key}-{name}",
            icon=":material/download:",
            on_click="ignore",
            width="stretch",
        )


def chart_downloads(chart, stem: str, *, key: str) -> None:
    """PNG and SVG of a chart, rendered only when clicked (vl-convert takes a moment)."""
    row = st.container(horizontal=True)
    for fmt in files.IMAGE_FORMATS:
        row.download_button(
            f"Chart as {fmt.upper()}",
            lambda fmt=fmt: files.chart_image(chart, fmt),
            file_name=f"{stem}.{fmt}",
            mime=files.IMAGE_FORMATS[fmt],
            key=f"{key}-{fmt}",
            icon=":material/image:",
            on_click="ignore",
            width="stretch",
        )


def raw_download(kind: str, *, tz: str, start_day: date, end_day: date, max_rows: int | None, key: str) -> None:
    """A link to the extract, streamed by the server (web.export_route) straight from
    COPY: the page process never holds the file. With sidecar provenance it is a ZIP."""
    _raw_link(kind, tz, start_day, end_day, st.session_state.get(STYLE_KEY, "header"), max_rows, key)


# Links are signed for signing.TTL_S; re-signed halfway, so a page left open keeps a working one.
@st.fragment(run_every=timedelta(seconds=signing.TTL_S // 2))
def _raw_link(kind: str, tz: str, start_day: date, end_day: date, style: str, max_rows: int | None, key: str) -> None:
    try:
        url = export_route.raw_link(kind, tz=tz, start_day=start_day, end_day=end_day, style=style, max_rows=max_rows)
    except ConfigError as exc:
        st.error(str(exc), icon=":material/key_off:")
        return
    name, _ = raw.raw_download_name(kind, start_day, end_day, style)
    st.link_button(
        f"Download raw {kind} ({'ZIP: CSV + JSON' if style == 'sidecar' else 'CSV'})",
        url,
        key=f"{key}-{style}",
        icon=":material/download:",
        help=f"Streams {name} from the database as you download it.",
    )
