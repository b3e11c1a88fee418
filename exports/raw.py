"""Raw extracts: the rows of `users` or `activities` created in a range, streamed
from PostgreSQL's COPY in one snapshot, with their provenance known before the
first byte (the page's signed link, web/export_route.py, and the CLI).

The CSV opens as it is in a spreadsheet: a UTF-8 byte-order mark, the labels of
exports.columns as headers (COPY's own header row is checked against the names
and replaced), times ISO 8601 with their UTC offset. With `pseudonyms` (what a
non-admin gets) e-mail and Cognito ids are keyed hashes (HMAC-SHA256, stable for
one key, so extracts made with the same key join) and e-mail-like text in names
and messages is masked; the provenance says which columns changed.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, BinaryIO

from db import statements
from db.settings import get_settings, valid_timezone
from exports.columns import RAW_COLUMNS, labels
from exports.files import DEFAULT_STYLE, STYLES, Provenance, _check, sidecar_name
from exports.formats import BOM
from exports.pseudonyms import MASK, MASKED, PSEUDONYM_HEX, PSEUDONYMISED, Pseudonyms
from queries import catalog
from queries.explore import RAW_KINDS

if TYPE_CHECKING:
    import psycopg

# What COPY hands over, piece by piece (psycopg's Buffer); the pieces made here are bytes.
Piece = bytes | bytearray | memoryview


def max_rows_setting() -> int | None:
    """RAW_EXPORT_MAX_ROWS: a cap on the rows of a raw extract from the page (0 or unset: none)."""
    return get_settings().raw_export_max_rows or None


def timeout_ms_setting() -> int:
    """RAW_EXPORT_TIMEOUT_MS: the statement timeout of a raw extract's COPY."""
    return get_settings().raw_export_timeout_ms


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

    def __init__(self, conn: psycopg.Connection, kind: str, params: dict, provenance: Provenance):
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

    def csv(self, *, header_line: bool = False) -> Generator[Piece, None, None]:
        """The CSV as COPY sends it, piece by piece (about a row each), after a
        UTF-8 byte-order mark, the provenance line when asked, and the headers.
        Raises at the end if COPY sent a different number of rows than the
        snapshot counted."""
        yield BOM.encode()
        if header_line:
            yield self.provenance.header_line().encode()
        with self._conn.cursor() as cur:
            with statements.copy(cur, f"explore.copy_raw_{self.kind}", **self._params) as copy:
                yield from _labelled(iter(copy), RAW_COLUMNS[self.kind])
            copied = cur.rowcount
        if copied != self.rows:
            raise RuntimeError(f"raw export wrote {copied:,} rows but the snapshot holds {self.rows:,}")

    def zip(self) -> Generator[bytes, None, None]:
        """A ZIP of the plain CSV and its provenance JSON, made as the CSV streams:
        zipfile writes to a stream it cannot seek (sizes go after the data), as
        ZIP64 since the size is not known up front."""
        import zipfile

        name = raw_file_name(self.kind, self.provenance.range_start, self.provenance.range_end)
        spool = _Spool()
        with (
            closing(self.csv(header_line=False)) as pieces,
            zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        ):
            with zf.open(name, "w", force_zip64=True) as entry:
                for piece in pieces:
                    entry.write(piece)
                    if spool.pending:
                        yield spool.take()
            zf.writestr(sidecar_name(name), self.provenance.to_json())
        yield spool.take()

    def download(self, style: str) -> Generator[Piece, None, None]:
        """What a page download holds in `style`: the CSV after its provenance
        line, or (sidecar) a ZIP of the CSV and its JSON. See raw_download_name."""
        _check(style, STYLES, "provenance style")
        return self.csv(header_line=True) if style == "header" else self.zip()


def _labelled(pieces: Iterator[Piece], names: tuple[str, ...]) -> Iterator[Piece]:
    """COPY's pieces with its header row (the SQL's column names) checked against
    `names` and replaced by their labels."""
    head = bytearray()
    for piece in pieces:
        head += piece
        if b"\n" in head:
            break
    first, _, rest = bytes(head).partition(b"\n")
    if first.decode().split(",") != list(names):
        raise RuntimeError(f"the extract's columns {first.decode()!r} are not {','.join(names)!r}")
    yield (",".join(labels(names)) + "\n").encode() + rest
    yield from pieces


class _Spool:
    """A write-only file for zipfile that hands over what was written so far."""

    def __init__(self):
        self._data = bytearray()

    def write(self, data: Piece) -> int:
        self._data += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:  # zipfile never closes a file it was handed; here for its type
        pass

    @property
    def pending(self) -> int:
        return len(self._data)

    def take(self) -> bytes:
        data = bytes(self._data)
        self._data.clear()
        return data


@contextmanager
def open_raw(
    kind: str,
    *,
    tz: str,
    start_day: date,
    end_day: date,
    max_rows: int | None = None,
    cap_source: str = "RAW_EXPORT_MAX_ROWS",
    pseudonyms: Pseudonyms | None = None,
) -> Iterator[RawExtract]:
    """Open a raw extract of the `kind` rows created in [start_day, end_day]
    (local dates in `tz`): on a connection of its own (an extract may stream for
    minutes; the pools serve the pages), in one REPEATABLE READ READ ONLY
    transaction with RAW_EXPORT_TIMEOUT_MS, so the count and the COPY see the
    same rows. With `max_rows`, the oldest rows are kept and the provenance says
    truncated. With `pseudonyms`, personal data is hashed or masked (see the
    module docstring). The connection closes when the block ends."""
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
            statements.execute(conn, "database.set_statement_timeout", timeout_ms=timeout_ms_setting())
            total = statements.scalar(
                statements.execute(conn, f"explore.count_raw_{kind}", tz=tz, start_day=start_day, end_day=end_day)
            )
            rows = min(total, max_rows) if max_rows else total
            extra = {
                "total_rows": total,
                "truncated": rows < total,
                "max_rows": f"{max_rows} ({cap_source})" if max_rows else "none",
                **_pseudonym_provenance(kind, pseudonyms),
            }
            provenance = Provenance(
                dataset=f"raw.{kind}",
                tz=tz,
                range_start=start_day,
                range_end=end_day,
                granularity=None,
                rows=rows,
                from_cache=False,
                computed_at=datetime.now(UTC),
                extra=extra,
                columns=RAW_COLUMNS[kind],
            ).for_csv()
            params = {"tz": tz, "start_day": start_day, "end_day": end_day, "max_rows": max_rows}
            if pseudonyms is not None:
                inner, outer = pseudonyms.pads()
                wanted = catalog.get(f"explore.copy_raw_{kind}").params
                params |= {k: v for k, v in (("inner_key", inner), ("outer_key", outer)) if k in wanted}
            yield RawExtract(conn, kind, params, provenance)


def _pseudonym_provenance(kind: str, pseudonyms: Pseudonyms | None) -> dict[str, str]:
    """What the provenance says of personal data: which columns were changed, and how."""
    if pseudonyms is None:
        return {"personal_data": "full"}
    return {
        "personal_data": "pseudonymised",
        "pseudonymised": ";".join(PSEUDONYMISED[kind]) or "none",
        "pseudonymised_as": f"HMAC-SHA256 under export key {pseudonyms.name!r}, first {PSEUDONYM_HEX} hex digits",
        "masked": ";".join(MASKED[kind]),
        "masked_as": f"e-mail-like text replaced by {MASK}",
        "pseudonym_key": pseudonyms.name,
    }


def stream_raw(
    kind: str,
    out: BinaryIO,
    *,
    tz: str,
    start_day: date,
    end_day: date,
    style: str = DEFAULT_STYLE,
    max_rows: int | None = None,
    cap_source: str = "RAW_EXPORT_MAX_ROWS",
    pseudonyms: Pseudonyms | None = None,
) -> RawResult:
    """Write a raw extract to `out` as CSV straight from COPY (memory stays flat
    whatever the size): after its provenance line, or bare for `style` sidecar
    (the caller writes `result.provenance.to_json()` next to it)."""
    _check(style, STYLES, "provenance style")
    written = 0
    with open_raw(
        kind,
        tz=tz,
        start_day=start_day,
        end_day=end_day,
        max_rows=max_rows,
        cap_source=cap_source,
        pseudonyms=pseudonyms,
    ) as extract:
        for piece in extract.csv(header_line=style == "header"):
            out.write(piece)
            written += len(piece)
    return RawResult(rows=extract.rows, total_rows=extract.total_rows, bytes=written, provenance=extract.provenance)


def raw_file_name(kind: str, start_day: date, end_day: date) -> str:
    return f"raw_{kind}_{start_day}_{end_day}.csv"


def raw_download_name(kind: str, start_day: date, end_day: date, style: str) -> tuple[str, str]:
    """File name and MIME type of a page's raw download (RawExtract.download)."""
    name = raw_file_name(kind, start_day, end_day)
    if style == "sidecar":
        return name.removesuffix(".csv") + ".zip", "application/zip"
    return name, "text/csv; charset=utf-8"
