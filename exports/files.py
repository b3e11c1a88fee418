"""Files an analyst can audit, made one way for the pages and the CLI.

Aggregates (a table as shown) become CSV, XLSX or Parquet (raw extracts stream
from PostgreSQL with COPY: exports.raw); charts become PNG or SVG. CSV and XLSX
headers are the screen's labels, Parquet columns the script names
(exports.columns). Every data file carries its provenance, in the analyst's
choice of style:

    sidecar   (default) the data file as is, plus `<file>.provenance.json`: a CSV
              opens directly in Excel, LibreOffice or Google Sheets
    header    CSV: a first line `# key=value,...` (for scripts); Parquet and XLSX
              carry it inside whatever the style

XLSX always holds it on a second sheet, "Provenance"; Parquet in its key-value
metadata. Every CSV starts with a UTF-8 byte-order mark.

In every CSV a text cell that a spreadsheet would run as a formula starts with
`'` (exports.formats.neutralise; the raw COPY SQL does the same), and its
provenance says `csv_formulas=neutralised`. Parquet keeps exact values.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import pandas as pd

from exports.columns import label
from exports.formats import BOM, CSV_FORMULAS_KEY, CSV_FORMULAS_VALUE, csv_file, text_of

if TYPE_CHECKING:
    from queries.explore import Explored

STYLES = {"sidecar": "Separate JSON file (CSV opens as is)", "header": "First line of the CSV (for scripts)"}
DEFAULT_STYLE = "sidecar"
FILE_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
PARQUET_KEY = b"cruddur.provenance"
PRODUCER = "cruddur-dashboard"


@dataclass(frozen=True)
class Provenance:
    dataset: str
    tz: str
    range_start: date
    range_end: date
    granularity: str | None
    rows: int
    from_cache: bool
    computed_at: datetime  # when the numbers were read from the database
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    extra: dict = field(default_factory=dict)  # e.g. cumulative, truncated, total_rows
    columns: tuple[str, ...] = ()  # the file's column names, in order (their labels are the headers)

    def as_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "generated_at": _iso(self.generated_at),
            "computed_at": _iso(self.computed_at),
            "tz": self.tz,
            "range": f"{self.range_start.isoformat()}..{self.range_end.isoformat()}",
            "granularity": self.granularity or "none",
            "rows": self.rows,
            "from_cache": self.from_cache,
            **self.extra,
            "producer": PRODUCER,
            **({"columns": {name: label(name) for name in self.columns}} if self.columns else {}),
        }

    def header_line(self) -> str:
        """`# dataset=...,generated_at=...,tz=...` on one line; values are
        percent-encoded where they could break the line or the key=value split.
        The column list is left out: the next line holds the headers."""
        pairs = ",".join(f"{k}={quote(text_of(v), safe=':/._+-')}" for k, v in self.as_dict().items() if k != "columns")
        return f"# {pairs}\n"

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def for_csv(self) -> Provenance:
        """The provenance of a CSV file: it says formula-like text was neutralised."""
        return replace(self, extra={**self.extra, CSV_FORMULAS_KEY: CSV_FORMULAS_VALUE})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_header_line(line: str) -> dict[str, str]:
    """The inverse of Provenance.header_line (values as text)."""
    from urllib.parse import unquote

    body = line.removeprefix(BOM).removeprefix("#").strip()
    return {k: unquote(v) for k, v in (pair.split("=", 1) for pair in body.split(","))}


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes
    mime: str


def sidecar_name(file_name: str) -> str:
    return f"{file_name}.provenance.json"


def aggregate_names(*, fmt: str, style: str, stem: str) -> list[tuple[str, str]]:
    """(file name, MIME type) of each file `aggregate_files` makes, without making them."""
    _check(fmt, FILE_FORMATS, "format")
    _check(style, STYLES, "provenance style")
    name = f"{stem}.{fmt}"
    return [(name, FILE_FORMATS[fmt])] + ([(sidecar_name(name), "application/json")] if style == "sidecar" else [])


def aggregate_files(
    frame: pd.DataFrame, provenance: Provenance, *, fmt: str, style: str, stem: str
) -> list[ExportFile]:
    """A table exactly as shown, as CSV or Parquet, plus its sidecar when asked.
    `frame` is the query's frame; the CSV is `exports.formats.to_csv` of it, the
    very text the page table and `python -m queries run` show (formula-like text
    neutralised, as its provenance says)."""
    (name, mime), *sidecar = aggregate_names(fmt=fmt, style=style, stem=stem)
    provenance = replace(provenance, columns=tuple(str(c) for c in frame.columns))
    if fmt == "csv":
        provenance = provenance.for_csv()
        body = BOM.encode() + (provenance.header_line().encode() if style == "header" else b"") + csv_file(frame)
    elif fmt == "xlsx":
        from exports.xlsx import to_xlsx

        body = to_xlsx(frame, provenance)
    else:
        body = to_parquet(frame, provenance)
    return [ExportFile(name, body, mime)] + [ExportFile(n, provenance.to_json().encode(), m) for n, m in sidecar]


def to_parquet(frame: pd.DataFrame, provenance: Provenance) -> bytes:
    """Typed columns (dates as date32, counts as int64) under their script names,
    each field's label in its metadata (`label`), provenance in the footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = frame.copy()
    data.attrs = {}
    table = pa.Table.from_pandas(data, preserve_index=False)
    table = table.cast(
        pa.schema([f.with_metadata({b"label": label(f.name).encode()}) for f in table.schema], table.schema.metadata)
    )
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_KEY] = json.dumps(provenance.as_dict()).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer)
    return buffer.getvalue()


def read_parquet_provenance(data: bytes) -> dict:
    import pyarrow.parquet as pq

    return json.loads(pq.read_schema(io.BytesIO(data)).metadata[PARQUET_KEY])


def frame_provenance(
    frame: pd.DataFrame,
    *,
    dataset: str,
    tz: str,
    granularity: str | None,
    range_start: date,
    range_end: date,
    extra: dict | None = None,
) -> Provenance:
    """Provenance of a cached query result (its attrs say when and whether cached)."""
    return Provenance(
        dataset=dataset,
        tz=tz,
        range_start=range_start,
        range_end=range_end,
        granularity=granularity,
        rows=len(frame),
        from_cache=bool(frame.attrs.get("from_cache", False)),
        computed_at=frame.attrs.get("computed_at") or datetime.now(UTC),
        extra=extra or {},
    )


def explore_provenance(data: Explored) -> Provenance:
    """Provenance of an Explore answer (queries.explore.Explored)."""
    return Provenance(
        dataset=data.dataset,
        tz=data.tz,
        range_start=data.range.start,
        range_end=data.range.end,
        granularity=data.granularity,
        rows=len(data.frame),
        from_cache=data.from_cache,
        computed_at=data.computed_at,
        extra={"range_preset": data.range.preset, "cumulative": data.cumulative},
    )


def per_day_provenance(frame: pd.DataFrame, *, dataset: str, tz: str) -> Provenance:
    """Provenance of a Growth page per-day table (its range is its first to last day)."""
    return frame_provenance(
        frame, dataset=dataset, tz=tz, granularity="day", range_start=frame["day"].min(), range_end=frame["day"].max()
    )


# --- charts -------------------------------------------------------------------


def chart_image(spec: dict, fmt: str, *, scale: float = 2.0, width: int = 800) -> bytes:
    """A chart's Vega-Lite spec (exports.charts) as PNG (at `scale`, for slides) or SVG,
    rendered by vl-convert. On the page the chart takes the container's width; a
    file needs its own."""
    import vl_convert as vlc

    _check(fmt, IMAGE_FORMATS, "image format")
    text = json.dumps({**spec, "width": width, "background": "white"})
    if fmt == "png":
        return vlc.vegalite_to_png(text, scale=scale)
    return vlc.vegalite_to_svg(text).encode()


def _check(value: str, allowed: Collection[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {what} {value!r}; choose one of: {', '.join(allowed)}")
