"""Slide-ready pictures: one chart, or the whole Growth view as one "snapshot".

Both are Vega-Lite specs composed around the very chart specs the page shows
(exports.charts), with what a slide needs and a screen does not: a title, the
range, the report time zone, the "as of" time and a source line, at 16:9
presentation size. vl-convert renders them to PNG, SVG or PDF; text stays text
in SVG and PDF (searchable, and checked by the tests).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from exports.charts import FONT, INK, MUTED


def source_line(*, production: bool, messages: bool) -> str:
    """A slide's footer: which database the numbers came from, and DynamoDB only when messages are shown."""
    tables = "users, activities; messages from DynamoDB" if messages else "users, activities"
    return f"Source: Cruddur {'production' if production else 'development'} database ({tables}) · cruddur-dashboard"


FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
WIDTH = 1280  # CSS pixels of a 16:9 slide; PNGs are drawn at PNG_SCALE (1920 x 1080)
HEIGHT = 720
PNG_SCALE = 1.5
UP, DOWN = "#1B7F4B", "#B3261E"


@dataclass(frozen=True)
class Caption:
    """What a slide says about its numbers."""

    title: str
    range_text: str  # e.g. "Sat 21 Nov – Fri 27 Nov 2026"
    tz: str
    as_of: datetime  # UTC, when the numbers were read
    source: str  # source_line(...)

    def as_of_text(self) -> str:
        import zoneinfo

        at = self.as_of.astimezone(zoneinfo.ZoneInfo(self.tz))
        utc = "" if at.utcoffset() == UTC.utcoffset(None) and self.tz == "UTC" else f" ({self.as_of:%H:%M} UTC)"
        return f"As of {at:%H:%M} {self.tz}, {at:%a %d %b %Y}{utc}"


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    delta: str | None = None
    note: str | None = None  # e.g. "in the last 7 days"


def _parts(spec: dict) -> tuple[dict, dict, dict]:
    """A chart spec without its top-level-only keys: (view, datasets, config)."""
    view = copy.deepcopy(spec)
    datasets = view.pop("datasets", {})
    config = view.pop("config", {})
    view.pop("$schema", None)
    return view, datasets, config


def _footer(text: str, width: int) -> dict:
    return {
        "width": width,
        "height": 18,
        "data": {"values": [{}]},
        "mark": {"type": "text", "text": text, "align": "left", "baseline": "middle", "fontSize": 13, "color": MUTED},
        "encoding": {"x": {"value": 0}, "y": {"value": 9}},
        "view": {"stroke": None},
    }


def _page(title: str, subtitle: list[str], body: list[dict], datasets: dict, config: dict) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {
            "text": title,
            "subtitle": subtitle,
            "anchor": "start",
            "fontSize": 34,
            "subtitleFontSize": 17,
            "color": INK,
            "subtitleColor": MUTED,
            "offset": 18,
            "font": FONT,
            "subtitleFont": FONT,
        },
        "vconcat": body,
        "spacing": 22,
        "padding": 36,
        "background": "white",
        "datasets": datasets,
        "config": {**config, "font": FONT, "view": {"stroke": None}, "concat": {"spacing": 22}},
    }


def chart_slide(spec: dict, caption: Caption) -> dict:
    """One chart on a 16:9 slide: title, range and zone, as-of, then the chart, then the source."""
    view, datasets, config = _parts(spec)
    for part in [view, *view.get("layer", [])]:  # the slide's own title replaces the chart's
        part.pop("title", None)
    inner = WIDTH - 2 * 36 - 70  # room for the y axis
    view.update(width=inner, height=HEIGHT - 2 * 36 - 205)
    body = [view, _footer(caption.source, inner)]
    subtitle = [f"{caption.range_text} · days in {caption.tz}", caption.as_of_text()]
    return _page(caption.title, subtitle, body, datasets, config)


def _kpi_tile(kpi: Kpi, width: int) -> dict:
    delta = kpi.delta or ""
    colour = UP if delta.startswith("+") else DOWN if delta.startswith(("-", "−")) else MUTED
    texts = [
        (kpi.label, 24, 16, "normal", MUTED),
        (kpi.value, 68, 38, "bold", INK),
        (" ".join(t for t in (delta, kpi.note or "") if t), 104, 15, "normal", colour),
    ]
    return {
        "width": width,
        "height": 124,
        "view": {"stroke": "#D9DBE6", "cornerRadius": 8, "fill": "#F4F5FA"},
        "layer": [
            {
                "data": {"values": [{}]},
                "mark": {
                    "type": "text",
                    "text": text,
                    "align": "left",
                    "baseline": "middle",
                    "fontSize": size,
                    "fontWeight": weight,
                    "color": colour_,
                    "font": FONT,
                },
                "encoding": {"x": {"value": 18}, "y": {"value": y}},
            }
            for text, y, size, weight, colour_ in texts
        ],
    }


def snapshot(title: str, freshness: str, kpis: list[Kpi], chart_specs: list[dict], caption: Caption) -> dict:
    """The whole Growth view on one 16:9 page: the KPI cards with their deltas, the
    charts side by side, the freshness line and the source."""
    usable = WIDTH - 2 * 36
    gap = 16
    tile = (usable - gap * (len(kpis) - 1)) // max(1, len(kpis))
    datasets: dict = {}
    config: dict = {}
    views = []
    chart_width = (usable - 40 * len(chart_specs) - gap * (len(chart_specs) - 1)) // max(1, len(chart_specs))
    for spec in chart_specs:
        view, found, conf = _parts(spec)
        datasets.update(found)
        config.update(conf)
        view.update(width=chart_width, height=300)
        views.append(view)
    body = [
        {"hconcat": [_kpi_tile(k, tile) for k in kpis], "spacing": gap},
        {"hconcat": views, "spacing": gap + 24},
        _footer(f"{freshness} · {caption.source}", usable),
    ]
    subtitle = [f"{caption.range_text} · days in {caption.tz}", caption.as_of_text()]
    return _page(title, subtitle, body, datasets, config)


def render(spec: dict, fmt: str, *, scale: float = PNG_SCALE) -> bytes:
    """PNG (at `scale`), SVG or PDF of a composed spec, by vl-convert."""
    import vl_convert as vlc

    if fmt not in FORMATS:
        raise ValueError(f"Unknown image format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    text = json.dumps(spec)
    if fmt == "png":
        return vlc.vegalite_to_png(text, scale=scale)
    if fmt == "pdf":
        return vlc.vegalite_to_pdf(text)
    return vlc.vegalite_to_svg(text).encode()


__all__ = ["Caption", "Kpi", "chart_slide", "render", "snapshot"]
