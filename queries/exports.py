"""Files an analyst can audit, made one way for the pages and the CLI.

Aggregates (a table as shown) become CSV or Parquet; raw extracts stream from
PostgreSQL with COPY; charts become PNG or SVG. Every data file carries its
provenance, in the analyst's choice of style:

    header    CSV: a first line `# key=value,...`; Parquet: the same JSON in the
              file's key-value metadata (Parquet has no header line)
    sidecar   the data file as is, plus `<file>.provenance.json`

In every CSV a text cell that a spreadsheet would run as a formula starts with
`'` (queries.formats.neutralise; the raw COPY SQL does the same), and its
provenance says `csv_formulas=neutralised`. Parquet keeps exact values.
"""
from __future__ import annotations

import io
import json
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import BinaryIO, Iterator
from urllib.parse import quote

import pandas as pd

from db.settings import number_setting, valid_timezone
from queries import catalog, prepare_params
from queries.formats import CSV_FORMULAS_KEY, CSV_FORMULAS_VALUE, to_csv

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

    def for_csv(self) -> Provenance:
        """The provenance of a CSV file: it says formula-like text was neutralised."""
        return replace(self, extra={**self.extra, CSV_FORMULAS_KEY: CSV_FORMULAS_VALUE})


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
    very text the page table and `python -m queries run` show (formula-like text
    neutralised, as its provenance says)."""
    (name, mime), *sidecar = aggregate_names(fmt=fmt, style=style, stem=stem)
    if fmt == "csv":
        provenance = provenance.for_csv()
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


class RawExtract:
    """An opened raw extract (see open_raw): counted, with its provenance known
    before the first byte, and ready to stream in the same snapshot."""

    def __init__(self, conn, kind: str, params: dict, provenance: Provenance):
        self._conn, self.kind, self._params, self.provenance = conn, kind, params, provenance

    @property
    def rows(self) -> int:
        return self.provenance.rows

    @property
    def total_rows(self) -> int:
        return self.provenance.extra["total_rows"]

    @property
    def truncated(self) -> bool:
        return self.rows < self.total_rows

    def csv(self, *, header_line: bool = True) -> Iterator[bytes]:
        """The CSV as COPY sends it, piece by piece (about a row each), after the
        provenance line when asked. Raises at the end if COPY sent a different
        number of rows than the snapshot counted."""
        if header_line:
            yield self.provenance.header_line().encode()
        query = catalog.get(f"explore.copy_raw_{self.kind}")
        with self._conn.cursor() as cur:
            with cur.copy(query.sql(), self._params) as copy:
                yield from copy
            copied = cur.rowcount
        if copied != self.rows:
            raise RuntimeError(f"raw export wrote {copied:,} rows but the snapshot holds {self.rows:,}")

    def zip(self) -> Iterator[bytes]:
        """A ZIP of the plain CSV and its provenance JSON, made as the CSV streams:
        zipfile writes to a stream it cannot seek (sizes go after the data), as
        ZIP64 since the size is not known up front."""
        import zipfile

        name = raw_file_name(self.kind, self.provenance.range_start, self.provenance.range_end)
        spool = _Spool()
        with closing(self.csv(header_line=False)) as pieces, \
                zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            with zf.open(name, "w", force_zip64=True) as entry:
                for piece in pieces:
                    entry.write(piece)
                    if spool.pending:
                        yield spool.take()
            zf.writestr(sidecar_name(name), self.provenance.to_json())
        yield spool.take()

    def download(self, style: str) -> Iterator[bytes]:
        """What a page download holds in `style`: the CSV after its provenance
        line, or (sidecar) a ZIP of the CSV and its JSON. See raw_download_name."""
        _check(style, STYLES, "provenance style")
        return self.csv() if style == "header" else self.zip()


class _Spool:
    """A write-only file for zipfile that hands over what was written so far."""

    def __init__(self):
        self._data = bytearray()

    def write(self, data) -> int:
        self._data += data
        return len(data)

    def flush(self) -> None:
        pass

    @property
    def pending(self) -> int:
        return len(self._data)

    def take(self) -> bytes:
        data = bytes(self._data)
        self._data.clear()
        return data


@contextmanager
def open_raw(kind: str, *, tz: str, start_day: date, end_day: date, max_rows: int | None = None,
             cap_source: str = "RAW_EXPORT_MAX_ROWS") -> Iterator[RawExtract]:
    """Open a raw extract of the `kind` rows created in [start_day, end_day]
    (local dates in `tz`): on a connection of its own (an extract may stream for
    minutes; the pools serve the pages), in one REPEATABLE READ READ ONLY
    transaction with RAW_EXPORT_TIMEOUT_MS, so the count and the COPY see the
    same rows. With `max_rows`, the oldest rows are kept and the provenance says
    truncated. The connection closes when the block ends."""
    from psycopg import IsolationLevel

    from db import pool

    _check(kind, dict.fromkeys(RAW_KINDS), "raw extract")
    tz = valid_timezone(tz)
    if max_rows is not None and max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    if start_day > end_day:
        raise ValueError(f"The start date {start_day} is after the end date {end_day}.")
    with pool.dedicated("export") as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            _run(conn, "explore.set_export_timeout", timeout_ms=str(timeout_ms_setting()))
            total = _run(conn, f"explore.count_raw_{kind}", tz=tz, start_day=start_day, end_day=end_day).fetchone()[0]
            rows = min(total, max_rows) if max_rows else total
            extra = {"total_rows": total, "truncated": rows < total,
                     "max_rows": f"{max_rows} ({cap_source})" if max_rows else "none"}
            provenance = Provenance(dataset=f"raw.{kind}", tz=tz, range_start=start_day, range_end=end_day,
                                    granularity=None, rows=rows, from_cache=False,
                                    computed_at=datetime.now(timezone.utc), extra=extra).for_csv()
            params = prepare_params(catalog.get(f"explore.copy_raw_{kind}"),
                                    {"tz": tz, "start_day": start_day, "end_day": end_day, "max_rows": max_rows})
            yield RawExtract(conn, kind, params, provenance)


def stream_raw(kind: str, out: BinaryIO, *, tz: str, start_day: date, end_day: date, style: str = "header",
               max_rows: int | None = None, cap_source: str = "RAW_EXPORT_MAX_ROWS") -> RawResult:
    """Write a raw extract to `out` as CSV straight from COPY (memory stays flat
    whatever the size): after its provenance line, or bare for `style` sidecar
    (the caller writes `result.provenance.to_json()` next to it)."""
    _check(style, STYLES, "provenance style")
    written = 0
    with open_raw(kind, tz=tz, start_day=start_day, end_day=end_day, max_rows=max_rows,
                  cap_source=cap_source) as extract:
        for piece in extract.csv(header_line=style == "header"):
            out.write(piece)
            written += len(piece)
    return RawResult(rows=extract.rows, total_rows=extract.total_rows, bytes=written, provenance=extract.provenance)


def _run(conn, name: str, **params):
    query = catalog.get(name)
    return conn.execute(query.sql(), prepare_params(query, params))


def raw_file_name(kind: str, start_day: date, end_day: date) -> str:
    return f"raw_{kind}_{start_day}_{end_day}.csv"


def raw_download_name(kind: str, start_day: date, end_day: date, style: str) -> tuple[str, str]:
    """File name and MIME type of a page's raw download (RawExtract.download)."""
    name = raw_file_name(kind, start_day, end_day)
    if style == "sidecar":
        return name.removesuffix(".csv") + ".zip", "application/zip"
    return name, "text/csv; charset=utf-8"


def _check(value: str, allowed, what: str) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {what} {value!r}; choose one of: {', '.join(allowed)}")

