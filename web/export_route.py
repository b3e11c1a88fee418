"""GET /export/raw: a raw extract streamed from PostgreSQL's COPY to the browser.

The Explore page gives every visitor a link to one extract (raw_link, signed
for signing.TTL_S): a signed-in admin's holds every column; anyone else's names
an export key, and the extract's e-mail and Cognito ids are hashed under it
(exports.pseudonyms). The page decides, and the signature keeps it so.

This route checks the link, opens the extract (a connection of its own, one
REPEATABLE READ READ ONLY snapshot, the rows counted) before answering, so a
refused link, a bad parameter or a database that is down still gets its own
status and a plain message. Then it streams the file in blocks of about
CHUNK_BYTES as COPY sends them: the process holds one block at a time, however
many rows there are. Whatever ends the response (the last byte, an error,
the browser going away) closes the COPY and the connection. At most
RAW_EXPORT_CONCURRENCY extracts stream at once per process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from datetime import date
from urllib.parse import urlencode

import anyio
import psycopg
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from db.errors import FOR_ADMINS, DatabaseUnavailable, is_connection_error, public_detail, safe_message
from db.logs import logger
from db.settings import ConfigError, get_settings, valid_timezone
from exports import files, raw
from exports.pseudonyms import pseudonyms_for
from web import signing
from web.signing import LinkRefused

PATH = "/export/raw"
PURPOSE = "raw-export"
FIELDS = ("kind", "tz", "start", "end", "style", "cap", "key")
CHUNK_BYTES = 256 * 1024
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}

log = logger("cruddur.export")
_running = 0  # extracts open in this process; read and changed on the event loop only


def concurrency_setting() -> int:
    """RAW_EXPORT_CONCURRENCY: extracts one process streams at once (each holds a connection)."""
    return get_settings().raw_export_concurrency


def url_path() -> str:
    """PATH under Streamlit's server.baseUrlPath, when one is configured."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{PATH}" if base else PATH


def route() -> Route:
    return Route(url_path(), raw_export, methods=["GET"])


def raw_link(
    kind: str,
    *,
    tz: str,
    start_day: date,
    end_day: date,
    style: str,
    max_rows: int | None,
    pseudonym_key: str | None = None,
    ttl_s: int = signing.TTL_S,
) -> str:
    """A link to one extract: with `pseudonym_key` (an export key's name) personal
    data is hashed or masked; without it (admins only) the extract is full."""
    fields = {
        "kind": kind,
        "tz": tz,
        "start": start_day.isoformat(),
        "end": end_day.isoformat(),
        "style": style,
        "cap": max_rows or 0,
        "key": pseudonym_key or "",
    }
    return f"{url_path()}?{urlencode(signing.sign(PURPOSE, fields, ttl_s=ttl_s))}"


async def raw_export(request: Request) -> Response:
    global _running
    key = None  # known once the link is read: "" is an admin's
    try:
        kind, tz, start, end, style, cap, key = _parse(
            signing.verify(PURPOSE, request.query_params.multi_items(), FIELDS)
        )
        limit = concurrency_setting()
        cap = min((c for c in (cap, raw.max_rows_setting()) if c), default=None)
        pseudonyms = pseudonyms_for(signing.server_secret(), key) if key else None
    except LinkRefused as exc:
        return _plain(exc.status, str(exc))
    except ConfigError as exc:
        return _failure(exc, admin=key == "")
    except ValueError as exc:  # an export key pseudonyms_for refuses
        return _plain(400, f"Bad download link: {exc}")
    name, mime = raw.raw_download_name(kind, start, end, style)
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    if request.method == "HEAD":
        return Response(headers=headers, media_type=mime)
    if _running >= limit:
        return _plain(
            503,
            f"{_running} raw extracts are already streaming from this server (at most {limit}, "
            "RAW_EXPORT_CONCURRENCY). Try again in a minute.",
            {"Retry-After": "30"},
        )
    _running += 1
    stack = ExitStack()
    try:
        extract = await anyio.to_thread.run_sync(
            stack.enter_context,
            raw.open_raw(kind, tz=tz, start_day=start, end_day=end, max_rows=cap, pseudonyms=pseudonyms),
        )
    except Exception as exc:
        _running -= 1
        return _failure(exc, admin=not key)
    except BaseException:  # cancelled: the thread may still have opened it
        _running -= 1
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(stack.close)
        raise
    log.info(
        "raw extract %s %s..%s (%s, %s): %s rows of %s, streaming",
        kind,
        start,
        end,
        style,
        "pseudonymised" if pseudonyms else "full",
        f"{extract.rows:,}",
        f"{extract.total_rows:,}",
    )
    return _Download(extract, stack, style, headers=headers, media_type=mime)


def _parse(fields: dict[str, str]) -> tuple[str, str, date, date, str, int, str]:
    """A signed link's values; 400 for values that are not an extract."""
    try:
        if fields["kind"] not in raw.RAW_KINDS:
            raise ValueError(f"unknown kind {fields['kind']!r}")
        if fields["style"] not in files.STYLES:
            raise ValueError(f"unknown provenance style {fields['style']!r}")
        start, end = date.fromisoformat(fields["start"]), date.fromisoformat(fields["end"])
        if start > end:
            raise ValueError(f"the start date {start} is after the end date {end}")
        cap = int(fields["cap"])
        if cap < 0:
            raise ValueError("the row cap is negative")
        if len(fields["key"]) > 100:
            raise ValueError("the export key is longer than 100 characters")
        return fields["kind"], valid_timezone(fields["tz"]), start, end, fields["style"], cap, fields["key"]
    except ValueError as exc:  # ConfigError (time zone) included
        raise LinkRefused(400, f"Bad download link: {exc}.") from None


def _plain(status: int, message: str, headers: dict | None = None) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers={**_NO_STORE, **(headers or {})})


def _failure(exc: Exception, *, admin: bool) -> Response:
    """A failure before the first byte, as a status and one plain line (tracebacks go to the log only).
    The database's own words (they can name its server) only on an admin's link, as on the pages."""
    detail = safe_message(exc) if admin else public_detail(exc)
    if isinstance(exc, DatabaseUnavailable) or (isinstance(exc, psycopg.OperationalError) and is_connection_error(exc)):
        log.warning("raw extract: the database is unavailable: %s", safe_message(exc))
        return _plain(503, f"The database is unavailable right now. {detail}", {"Retry-After": "10"})
    if isinstance(exc, psycopg.OperationalError):  # a timeout, a lock wait, a conflict: worth a retry
        log.warning("raw extract could not be opened: %s", safe_message(exc), exc_info=exc)
        return _plain(503, f"The extract could not be made right now. {detail}", {"Retry-After": "10"})
    if isinstance(exc, ConfigError):
        log.error("raw extract: the dashboard is not configured: %s", exc)
        return _plain(500, "The dashboard is not configured. " + (str(exc) if admin else FOR_ADMINS))
    log.error("raw extract failed before streaming", exc_info=exc)
    return _plain(500, f"The extract could not be made. {detail}")


def _blocks(pieces: Iterator[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """COPY's row-sized pieces gathered into blocks of about `size` bytes (one
    thread hop per block, not per row). Closing this closes the COPY."""
    block = bytearray()
    with closing(pieces):
        for piece in pieces:
            block += piece
            if len(block) >= size:
                yield bytes(block)
                block.clear()
    if block:
        yield bytes(block)


class Unfinished(Exception):
    """The download ended before its last byte (the browser went away, or an error)."""


class _Download(StreamingResponse):
    """Streams an opened extract; its COPY runs in worker threads, a block at a time."""

    def __init__(self, extract: raw.RawExtract, stack: ExitStack, style: str, **kwargs):
        self._blocks = _blocks(extract.download(style))
        self._stack = stack
        self._sent = 0
        self._finished = False
        super().__init__(self._body(), **kwargs)

    async def _body(self):
        while (block := await anyio.to_thread.run_sync(next, self._blocks, None)) is not None:
            self._sent += len(block)
            yield block
        self._finished = True

    async def __call__(self, scope, receive, send) -> None:
        global _running
        started = time.monotonic()
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._close)
            _running -= 1
            log.info(
                "raw extract %s: %s bytes in %.1f s",
                "sent" if self._finished else "ABORTED",
                f"{self._sent:,}",
                time.monotonic() - started,
            )

    def _close(self) -> None:
        """End the COPY (psycopg cancels one that is unfinished), then the
        transaction (rolled back when unfinished) and the connection."""
        for step in (self._blocks.close, self._end_snapshot):
            try:
                step()
            except Exception as exc:
                log.warning("closing a raw extract: %s", safe_message(exc))

    def _end_snapshot(self) -> None:
        if self._finished:
            self._stack.close()
        else:
            self._stack.__exit__(Unfinished, Unfinished(), None)
