"""Files an analyst can audit, made one way for the pages and the CLI.

Aggregates (a table as shown) become CSV or Parquet; raw extracts stream from
PostgreSQL with COPY; charts become PNG or SVG. Every data file carries its
provenance, in the analyst's choice of style:

    header    CSV: a first line `# key=value,...`; Parquet: the same JSON in the
              file's key-value metadata (Parquet has no header line)
    sidecar   the data file as is, plus `<file>.provenance.json`
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import BinaryIO
from urllib.parse import quote

import pandas as pd

from db.settings import number_setting, valid_timezone
from queries import catalog, prepare_params
from queries.formats import to_csv

STYLES = {"header": "Header line in the file", "sidecar": "Sidecar JSON file"}
FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
RAW_KINDS = ("users", "activities")
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
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    extra: dict = field(default_factory=dict)  # e.g. cumulative, truncated, total_rows

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
        }

    def header_line(self) -> str:
        """`# dataset=...,generated_at=...,tz=...` on one line; values are
        percent-encoded where they could break the line or the key=value split."""
        pairs = ",".join(f"{k}={quote(_text(v), safe=':/._+-')}" for k, v in self.as_dict().items())
        return f"# {pairs}\n"

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def parse_header_line(line: str) -> dict[str, str]:
    """The inverse of Provenance.header_line (values as text)."""
    from urllib.parse import unquote

    body = line.removeprefix("#").strip()
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
    _check(fmt, FORMATS, "format")
    _check(style, STYLES, "provenance style")
    name = f"{stem}.{fmt}"
    return [(name, FORMATS[fmt])] + ([(sidecar_name(name), "application/json")] if style == "sidecar" else [])


def aggregate_files(frame: pd.DataFrame, provenance: Provenance, *, fmt: str, style: str, stem: str) -> list[ExportFile]:
    """A table exactly as shown, as CSV or Parquet, plus its sidecar when asked.
    `frame` is the query's frame; the CSV is `queries.formats.to_csv` of it, the
    very text the page table and `python -m queries run` show."""
    (name, mime), *sidecar = aggregate_names(fmt=fmt, style=style, stem=stem)
    if fmt == "csv":
        body = to_csv(frame).encode()
        if style == "header":
            body = provenance.header_line().encode() + body
    else:
        body = to_parquet(frame, provenance)
    return [ExportFile(name, body, mime)] + [ExportFile(n, provenance.to_json().encode(), m) for n, m in sidecar]


def to_parquet(frame: pd.DataFrame, provenance: Provenance) -> bytes:
    """Typed columns (dates as date32, counts as int64), provenance in the footer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = frame.copy()
    data.attrs = {}
    table = pa.Table.from_pandas(data, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[PARQUET_KEY] = json.dumps(provenance.as_dict()).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buffer)
    return buffer.getvalue()


def read_parquet_provenance(data: bytes) -> dict:
    import pyarrow.parquet as pq

    return json.loads(pq.read_schema(io.BytesIO(data)).metadata[PARQUET_KEY])


def frame_provenance(frame: pd.DataFrame, *, dataset: str, tz: str, granularity: str | None,
                     range_start: date, range_end: date, extra: dict | None = None) -> Provenance:
    """Provenance of a cached query result (its attrs say when and whether cached)."""
    return Provenance(dataset=dataset, tz=tz, range_start=range_start, range_end=range_end, granularity=granularity,
                      rows=len(frame), from_cache=bool(frame.attrs.get("from_cache", False)),
                      computed_at=frame.attrs.get("computed_at") or datetime.now(timezone.utc), extra=extra or {})


def per_day_provenance(frame: pd.DataFrame, *, dataset: str, tz: str) -> Provenance:
    """Provenance of a Growth page per-day table (its range is its first to last day)."""
    return frame_provenance(frame, dataset=dataset, tz=tz, granularity="day",
                            range_start=frame["day"].min(), range_end=frame["day"].max())


# --- charts -------------------------------------------------------------------

def chart_image(spec: dict, fmt: str, *, scale: float = 2.0, width: int = 800) -> bytes:
    """A chart's Vega-Lite spec (ui.charts) as PNG (at `scale`, for slides) or SVG,
    rendered by vl-convert. On the page the chart takes the container's width; a
    file needs its own."""
    import vl_convert as vlc

    _check(fmt, IMAGE_FORMATS, "image format")
    spec = json.dumps({**spec, "width": width, "background": "white"})
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=scale)
    return vlc.vegalite_to_svg(spec).encode()


# --- raw extracts ---------------------------------------------------------------

def max_rows_setting() -> int | None:
    """RAW_EXPORT_MAX_ROWS: a cap on the rows of a raw extract from the page (0 or unset: none)."""
    return _positive_int("RAW_EXPORT_MAX_ROWS", 0) or None


def timeout_ms_setting() -> int:
    return _positive_int("RAW_EXPORT_TIMEOUT_MS", 600_000)


def _positive_int(name: str, default: int) -> int:
    return number_setting(name, default)


@dataclass(frozen=True)
class RawResult:
    rows: int  # rows written
    total_rows: int  # rows in the range
    bytes: int
    provenance: Provenance

    @property
    def truncated(self) -> bool:
        return self.rows < self.total_rows


class _Counter:
    def __init__(self, out: BinaryIO):
        self.out, self.n = out, 0

    def write(self, chunk) -> None:
        self.out.write(chunk)
        self.n += len(chunk)


def stream_raw(kind: str, out: BinaryIO, *, tz: str, start_day: date, end_day: date, style: str = "header",
               max_rows: int | None = None, cap_source: str = "RAW_EXPORT_MAX_ROWS") -> RawResult:
    """Write the raw rows of `kind` created in [start_day, end_day] (local dates) to
    `out` as CSV, straight from `COPY ... TO STDOUT`: memory stays flat whatever the
    size. Count and COPY run in one repeatable-read snapshot, so the provenance
    line (written first) states exactly the rows that follow; a mismatch raises.
    With `max_rows`, the oldest rows are kept and the provenance says truncated."""
    from db import pool
    from psycopg import IsolationLevel

    _check(kind, dict.fromkeys(RAW_KINDS), "raw extract")
    _check(style, STYLES, "provenance style")
    tz = valid_timezone(tz)
    if max_rows is not None and max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    sink = _Counter(out)
    with pool.connection(pool.READER) as conn:
        saved = conn.isolation_level
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        try:
            with conn.transaction():
                _run(conn, "explore.set_export_timeout", timeout_ms=str(timeout_ms_setting()))
                total = _run(conn, f"explore.count_raw_{kind}", tz=tz, start_day=start_day, end_day=end_day).fetchone()[0]
                rows = min(total, max_rows) if max_rows else total
                extra = {"total_rows": total, "truncated": rows < total,
                         "max_rows": f"{max_rows} ({cap_source})" if max_rows else "none"}
                provenance = Provenance(dataset=f"raw.{kind}", tz=tz, range_start=start_day, range_end=end_day,
                                        granularity=None, rows=rows, from_cache=False,
                                        computed_at=datetime.now(timezone.utc), extra=extra)
                if style == "header":
                    sink.write(provenance.header_line().encode())
                query = catalog.get(f"explore.copy_raw_{kind}")
                params = prepare_params(query, {"tz": tz, "start_day": start_day, "end_day": end_day,
                                                "max_rows": max_rows})
                with conn.cursor() as cur:
                    with cur.copy(query.sql(), params) as copy:
                        for chunk in copy:
                            sink.write(chunk)
                    copied = cur.rowcount
        finally:
            conn.isolation_level = saved
    if copied != rows:
        raise RuntimeError(f"raw export wrote {copied:,} rows but the snapshot holds {rows:,}")
    return RawResult(rows=rows, total_rows=total, bytes=sink.n, provenance=provenance)


def _run(conn, name: str, **params):
    query = catalog.get(name)
    return conn.execute(query.sql(), prepare_params(query, params))


def raw_file_name(kind: str, start_day: date, end_day: date) -> str:
    return f"raw_{kind}_{start_day}_{end_day}.csv"


def _check(value: str, allowed, what: str) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {what} {value!r}; choose one of: {', '.join(allowed)}")


def raw_bytes(kind: str, *, tz: str, start_day: date, end_day: date, style: str = "header",
              max_rows: int | None = None) -> tuple[bytes, RawResult]:
    """A raw extract as one bytes object, for Streamlit's download_button (which
    serves files from memory). COPY streams into a temporary file first, so only
    the finished file is ever held, once. With sidecar style: a ZIP of the CSV and
    its provenance JSON, which must describe the very snapshot the CSV came from."""
    import tempfile

    with tempfile.TemporaryFile() as csv_file:
        result = stream_raw(kind, csv_file, tz=tz, start_day=start_day, end_day=end_day, style=style,
                            max_rows=max_rows)
        csv_file.seek(0)
        if style == "header":
            return csv_file.read(), result
        with tempfile.TemporaryFile() as zipped:
            zip_with_sidecar(zipped, csv_file, raw_file_name(kind, start_day, end_day), result.provenance)
            zipped.seek(0)
            return zipped.read(), result


def zip_with_sidecar(out: BinaryIO, csv_file: BinaryIO, csv_name: str, provenance: Provenance) -> None:
    """A ZIP holding a raw CSV (copied in chunks) and its sidecar JSON."""
    import shutil
    import zipfile

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open(csv_name, "w", force_zip64=True) as entry:
            shutil.copyfileobj(csv_file, entry, 1 << 20)
        zf.writestr(sidecar_name(csv_name), provenance.to_json())
