"""Downloads for slides: each chart as a slide (PNG, SVG), and the whole Growth view
as one "snapshot" (PNG, PDF), from the very numbers and chart specs the page shows.
Files are rendered when clicked (vl-convert takes a moment), never on a page run."""

from __future__ import annotations

from datetime import date

import streamlit as st

from exports import slides

PNG, SVG, PDF = "png", "svg", "pdf"


def range_text(first: date, last: date) -> str:
    """'Sat 21 Nov – Fri 27 Nov 2026'."""
    return f"{first:%a} {first.day} {first:%b} – {last:%a} {last.day} {last:%b %Y}"


def chart_slide_downloads(spec: dict, caption: slides.Caption, stem: str, *, key: str) -> None:
    row = st.container(horizontal=True)
    for fmt in (PNG, SVG):
        row.download_button(
            f"Chart as {fmt.upper()}",
            lambda fmt=fmt: slides.render(slides.chart_slide(spec, caption), fmt),
            file_name=f"{stem}.{fmt}",
            mime=slides.FORMATS[fmt],
            key=f"{key}-{fmt}",
            icon=":material/image:",
            on_click="ignore",
            width="stretch",
            help="16:9, with title, range, time zone, as-of time and source",
        )


def snapshot_downloads(
    where, title: str, freshness: str, kpis: list[slides.Kpi], specs: list[dict], caption: slides.Caption
) -> None:
    """'Snapshot' PNG and PDF buttons in `where` (a container)."""
    stamp = f"{caption.as_of:%Y%m%dT%H%MZ}"
    for fmt in (PNG, PDF):
        where.download_button(
            f"Snapshot {fmt.upper()}",
            lambda fmt=fmt: slides.render(slides.snapshot(title, freshness, kpis, specs, caption), fmt),
            file_name=f"cruddur_growth_{stamp}.{fmt}",
            mime=slides.FORMATS[fmt],
            key=f"snapshot-{fmt}",
            icon=":material/photo_camera:" if fmt == PNG else ":material/picture_as_pdf:",
            on_click="ignore",
            help="The whole view on one 16:9 page: the cards with their deltas, both charts, the freshness line",
        )
