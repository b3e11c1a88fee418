"""Download buttons for tables and charts, and links to raw extracts streamed by
the server; the files come from exports.files and exports.raw, the same code
`python -m queries export` uses."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from db.settings import ConfigError
from exports import files, raw
from ui import auth
from web import export_route, signing

STYLE_KEY = "provenance_style"
FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel", "parquet": "Parquet"}


def style() -> str:
    return st.session_state.get(STYLE_KEY, files.DEFAULT_STYLE)


def provenance_style() -> str:
    """The analyst's choice, asked once per page: 'sidecar' (default) or 'header'."""
    return st.radio(
        "Provenance in downloads",
        list(files.STYLES),
        key=STYLE_KEY,
        horizontal=True,
        format_func=files.STYLES.get,
        help="Where each file says when, how and from what it was made. A separate .provenance.json "
        "file leaves the CSV as it opens in Excel, LibreOffice or Google Sheets; a first `# ...` line "
        "suits scripts (`pd.read_csv(path, skiprows=1)`). Excel files keep it on a second sheet and "
        "Parquet files in their metadata either way.",
    )


def table_downloads(frame: pd.DataFrame, provenance: files.Provenance, stem: str, *, key: str) -> None:
    """CSV, Excel and Parquet of a table exactly as shown (and the CSV's sidecar when
    chosen), in one row. Each file is made when its button is clicked, not on every run of the page."""
    chosen = style()
    # XLSX (its second sheet) and Parquet (its metadata) carry their provenance inside:
    # only the CSV needs its sidecar button (the command line writes every sidecar).
    choices = [
        (fmt, name, mime)
        for fmt in files.FILE_FORMATS
        for name, mime in files.aggregate_names(fmt=fmt, style=chosen, stem=stem)
        if fmt == "csv" or not name.endswith(".provenance.json")
    ]

    def made(fmt: str, name: str) -> bytes:
        return next(
            f.data for f in files.aggregate_files(frame, provenance, fmt=fmt, style=chosen, stem=stem) if f.name == name
        )

    row = st.container(horizontal=True)  # one block, not one per button: less for the browser to build
    for fmt, name, mime in choices:
        sidecar = name.endswith(".provenance.json")
        label = f"{FORMAT_NAMES[fmt]} provenance" if sidecar else f"Download {FORMAT_NAMES[fmt]}"
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


def raw_download(
    kind: str,
    *,
    tz: str,
    start_day: date,
    end_day: date,
    max_rows: int | None,
    key: str,
    pseudonym_key: str | None = None,
) -> None:
    """A link to the extract, streamed by the server (web.export_route) straight from
    COPY: the page process never holds the file. With sidecar provenance it is a ZIP.
    With `pseudonym_key` (everyone but admins) personal data is hashed or masked."""
    _raw_link(kind, tz, start_day, end_day, style(), max_rows, key, pseudonym_key)  # None: for an admin


# Links are signed for signing.TTL_S; re-signed halfway, so a page left open keeps a working one.
@st.fragment(run_every=timedelta(seconds=signing.TTL_S // 2))
def _raw_link(
    kind: str,
    tz: str,
    start_day: date,
    end_day: date,
    chosen: str,
    max_rows: int | None,
    key: str,
    pseudonym_key: str | None,
) -> None:
    auth.rerun_if_admin_changed(pseudonym_key is None)  # never re-sign an admin's link after sign-out
    try:
        url = export_route.raw_link(
            kind,
            tz=tz,
            start_day=start_day,
            end_day=end_day,
            style=chosen,
            max_rows=max_rows,
            pseudonym_key=pseudonym_key,
        )
    except ConfigError as exc:
        st.error(str(exc), icon=":material/key_off:")
        return
    name, _ = raw.raw_download_name(kind, start_day, end_day, chosen)
    what = "ZIP: CSV + JSON" if chosen == "sidecar" else "CSV"
    if pseudonym_key:
        what += ", pseudonymised"
    st.link_button(
        f"Download raw {kind} ({what})",
        url,
        key=f"{key}-{chosen}" + ("-pseudonymised" if pseudonym_key else ""),
        icon=":material/download:",
        help=f"Streams {name} from the database as you download it.",
    )
