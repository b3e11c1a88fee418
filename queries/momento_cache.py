"""A query-cache backend on Momento, shared by every dashboard replica.
(Long because the SDK adapter, its encoding, keys and generation-based invalidation
are one unit that only makes sense read together.)

Chosen when MOMENTO_API_KEY is set (see `queries.reads.backend()`). Nothing
here runs at import: the SDK client is built on first use.

- Values: Arrow IPC (pyarrow) behind a 4-byte format tag; dtypes, time zones
  and NaN survive; `computed_at` and `db_ms` ride in the schema metadata.
- Keys: rendered from the `CacheKey` the caller made (no catalog lookup, no
  parsing): format tag, query name, the key's statement hash (a changed query
  never reads an old result), the generations of the tables the key reads, and
  a hash of the key's text (its parameters).
- Invalidation: Momento cannot list keys, so each table has a generation
  counter (one Momento dictionary, field per table, `*` for "everything").
  A write bumps its tables' counters; results stored under the old numbers
  are never asked for again and expire by TTL. `clear()` bumps `*`.
- Failures: the SDK returns error objects; every one becomes
  `MomentoUnavailable` (the caller then asks the database), is counted and
  logged once on `cruddur.momento`. Calls time out after MOMENTO_TIMEOUT_MS,
  are not retried, and after a failure Momento is skipped for BREAKER_S so a
  dead endpoint costs one timeout (and one log line), not one per query.
- Layers: a `MemoryBackend` (queries/cache.py) with a LOCAL_TTL_S lifetime sits
  in front and answers repeats within a rerun without a network round trip; the
  generation numbers are kept as long.
- State shared by threads (breaker, generations, pending bumps, counters) is
  changed under `self._lock`, never held across a network call.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from db.errors import safe_message
from db.logs import logger
from queries.cache import BackendUnavailable, CacheKey, Entry, MemoryBackend

log = logger("cruddur.momento")

FORMAT = b"CDF1"  # bump when the encoding changes; part of every key too
DEFAULT_CACHE_NAME = "cruddur-dashboard"
DEFAULT_TIMEOUT_S = 0.25
GENERATIONS = "cdash:generations"
EVERYTHING = "*"
LOCAL_TTL_S = 5.0
BREAKER_S = 15.0
MAX_ITEM_BYTES = 1_000_000  # Momento's default item limit is larger; results here are small
_META_KEY = b"cruddur-dashboard"


class MomentoUnavailable(BackendUnavailable):
    """Momento could not answer; the caller falls back to the database."""


# -- encoding ---------------------------------------------------------------


def encode(entry: Entry) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(entry.frame, preserve_index=None)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps({"computed_at": entry.computed_at.isoformat(), "db_ms": entry.db_ms}).encode()
    table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return FORMAT + sink.getvalue().to_pybytes()


def decode(data: bytes) -> Entry:
    import pyarrow as pa

    if data[:4] != FORMAT:
        raise ValueError("not a cached result of this format")
    table = pa.ipc.open_stream(data[4:]).read_all()
    meta = json.loads(table.schema.metadata[_META_KEY])
    frame: pd.DataFrame = table.to_pandas()
    return Entry.restored(frame, datetime.fromisoformat(meta["computed_at"]), float(meta["db_ms"]))


# -- keys -------------------------------------------------------------------


def remote_key(key: CacheKey, generations: dict[str, int]) -> str:
    gens = ".".join(f"{t}{generations.get(t, 0)}" for t in sorted(key.reads))
    digest = hashlib.sha256(key.text.encode()).hexdigest()[:32]
    return (
        f"cdash:{FORMAT.decode()}:{key.name}:{key.statement_hash[:8]}:g{generations.get(EVERYTHING, 0)}.{gens}:{digest}"
    )


# -- the client -------------------------------------------------------------


def make_client(*, api_key: str | None, endpoint: str | None, timeout_s: float, credential: Any = None) -> Any:
    """A real CacheClient with a short timeout and no retries (the database is the retry)."""
    from momento import CacheClient, Configurations, CredentialProvider
    from momento.errors import SdkException
    from momento.retry import FixedCountRetryStrategy

    if credential is None:
        try:
            if endpoint:
                credential = CredentialProvider.from_api_key_v2(api_key or "", endpoint)
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # legacy/v1 keys carry their endpoint
                    credential = CredentialProvider.from_string(api_key or "")
        except (SdkException, ValueError, KeyError) as exc:
            # Never echo the key itself.
            raise MomentoUnavailable(
                f"MOMENTO_API_KEY is not a usable Momento API key ({type(exc).__name__})"
            ) from None
    config = (
        Configurations.InRegion.LowLatency.latest()
        .with_client_timeout(timedelta(seconds=timeout_s))
        .with_retry_strategy(FixedCountRetryStrategy(max_attempts=0))
    )
    return CacheClient(config, credential, default_ttl=timedelta(seconds=60))


class MomentoBackend:
    """The `Backend` on Momento, with `front` (a MemoryBackend living `local_ttl`
    seconds per entry) answering first."""

    name = "momento"

    def __init__(
        self,
        *,
        cache_name: str = DEFAULT_CACHE_NAME,
        api_key: str | None = None,
        endpoint: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        client: Any = None,
        client_factory: Callable[[], Any] | None = None,
        local_ttl: float = LOCAL_TTL_S,
        breaker_s: float = BREAKER_S,
        front: MemoryBackend | None = None,
    ) -> None:
        self.cache_name = cache_name
        self.timeout_s = timeout_s
        self.local_ttl = local_ttl
        self.breaker_s = breaker_s
        self.front = front if front is not None else MemoryBackend(ttl=local_ttl)
        self._client = client
        self._factory = client_factory or (lambda: make_client(api_key=api_key, endpoint=endpoint, timeout_s=timeout_s))
        self._build_lock = threading.Lock()
        self._lock = threading.Lock()  # guards everything below
        self._cache_ready = False
        self._gens: tuple[dict[str, int], float] | None = None
        self._pending_bumps: set[str] = set()
        self._down_until = 0.0
        self._max_retain = 60.0
        self.counts: Counter[str] = Counter()
        self.last_error: str | None = None

    # -- plumbing -----------------------------------------------------------

    def describe(self) -> str:
        with self._lock:
            down, last_error = time.monotonic() < self._down_until, self.last_error
        state = f" · unreachable, using the database ({last_error})" if down else ""
        return f"Momento cache `{self.cache_name}` (shared by all replicas){state}"

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def _count(self, what: str) -> None:
        with self._lock:
            self.counts[what] += 1

    def _fail(self, what: str, cause: BaseException | None = None) -> MomentoUnavailable:
        """Count and log one failure (with its cause's traceback) and open the breaker."""
        with self._lock:
            self.last_error = what
            self.counts[f"error:{what.split(':')[0]}"] += 1
            self._down_until = time.monotonic() + self.breaker_s
        log.warning(
            "Momento cache %r failed (%s); the database answers and Momento is skipped for %.0f s%s",
            self.cache_name,
            what,
            self.breaker_s,
            f": {safe_message(cause)}" if cause is not None else "",
            exc_info=cause,
        )
        return MomentoUnavailable(f"Momento: {what}")

    def _ready_client(self) -> Any:
        with self._lock:
            down = time.monotonic() < self._down_until
            if down:
                self.counts["skipped"] += 1
        if down:  # counted, not logged: the failure that opened the breaker was
            raise MomentoUnavailable("Momento failed recently; skipping it for a while")
        if self._client is None:
            failure: tuple[str, BaseException | None] | None = None
            with self._build_lock:
                if self._client is None:
                    try:
                        self._client = self._factory()
                    except MomentoUnavailable as exc:
                        failure = (str(exc), None)  # says why already, and never quotes the key
                    except Exception as exc:  # the SDK raising is a failure like any other
                        failure = (f"client: {type(exc).__name__}", exc)
            if failure:
                raise self._fail(*failure)
        with self._lock:
            ready = self._cache_ready
        if not ready:
            self._create_cache()
        return self._client

    def _create_cache(self) -> None:
        from momento.responses import CreateCache

        resp = self._client.create_cache(self.cache_name)
        if isinstance(resp, (CreateCache.Success, CreateCache.CacheAlreadyExists)):
            ready = True
        elif isinstance(resp, CreateCache.Error):
            from momento.errors import MomentoErrorCode

            # A key scoped to one cache may not create caches; the cache may still exist.
            if resp.error_code not in (MomentoErrorCode.PERMISSION_ERROR, MomentoErrorCode.ALREADY_EXISTS_ERROR):
                raise self._fail(f"{resp.error_code.name}: create cache", _cause(resp))
            ready = True
        else:
            raise self._fail(f"unexpected response {type(resp).__name__}")
        with self._lock:
            self._cache_ready = ready

    def _error(self, resp: Any) -> MomentoUnavailable:
        from momento.errors import MomentoErrorCode

        code = getattr(resp, "error_code", None)
        if code == MomentoErrorCode.NOT_FOUND_ERROR:
            with self._lock:
                self._cache_ready = False  # the cache was deleted: create it again next time
        return self._fail(code.name if code is not None else type(resp).__name__, _cause(resp))

    # -- generations --------------------------------------------------------

    def _generations(self) -> dict[str, int]:
        from momento.responses import CacheDictionaryFetch

        with self._lock:
            cached = self._gens
        if cached and time.monotonic() - cached[1] < self.local_ttl:
            return cached[0]
        client = self._ready_client()
        self._flush_bumps(client)
        resp = client.dictionary_fetch(self.cache_name, GENERATIONS)
        if isinstance(resp, CacheDictionaryFetch.Hit):
            gens = {k.decode(): int(v) for k, v in resp.value_dictionary_bytes_bytes.items()}
        elif isinstance(resp, CacheDictionaryFetch.Miss):
            gens = {}
        else:
            raise self._error(resp)
        with self._lock:
            self._gens = (gens, time.monotonic())
        return gens

    def _bump(self, client: Any, field: str) -> None:
        from momento.requests import CollectionTtl
        from momento.responses import CacheDictionaryIncrement

        # Counters must outlive every result stored under them.
        with self._lock:
            keep = timedelta(seconds=max(7 * 86400, 4 * self._max_retain))
        resp = client.dictionary_increment(self.cache_name, GENERATIONS, field, 1, ttl=CollectionTtl.of(keep))
        if not isinstance(resp, CacheDictionaryIncrement.Success):
            with self._lock:
                self._pending_bumps.add(field)
            raise self._error(resp)
        with self._lock:
            self._pending_bumps.discard(field)
            if self._gens is not None:
                self._gens = ({**self._gens[0], field: resp.value}, self._gens[1])

    def _flush_bumps(self, client: Any) -> None:
        """Bumps that failed earlier are sent before the next read, so a write made
        while Momento was down does not leave older results readable."""
        with self._lock:
            pending = sorted(self._pending_bumps)
        for field in pending:
            self._bump(client, field)

    # -- the backend interface ----------------------------------------------

    def get(self, key: CacheKey, max_age: float) -> Entry | None:
        from momento.responses import CacheGet

        local = self.front.peek(key)  # held for local_ttl, whatever its age: the answer
        if local is not None:
            self._count("local_hits")
            return local if local.age() < max_age else None
        gens = self._generations()
        resp = self._ready_client().get(self.cache_name, remote_key(key, gens))
        if isinstance(resp, CacheGet.Hit):
            try:
                entry = decode(resp.value_bytes)
            except Exception:  # written by another version: treat as a miss
                self._count("undecodable")
                log.warning("Momento result for %s could not be decoded; treated as a miss", key.name, exc_info=True)
                return None
            self._count("hits")
            self.front.set(key, entry, math.inf)
            return entry if entry.age() < max_age else None
        if isinstance(resp, CacheGet.Miss):
            self._count("misses")
            return None
        raise self._error(resp)

    def set(self, key: CacheKey, entry: Entry, retain: float) -> None:
        from momento.responses import CacheSet

        self.front.set(key, entry, retain)
        with self._lock:
            self._max_retain = max(self._max_retain, retain)
        try:
            blob = encode(entry)
        except Exception:  # e.g. a column of mixed types: keep it in this replica only
            self._count("unencodable")
            log.warning(
                "result of %s cannot be encoded for Momento; kept in this replica only", key.name, exc_info=True
            )
            return
        if len(blob) > MAX_ITEM_BYTES:
            self._count("too_large")
            return
        gens = self._generations()
        resp = self._ready_client().set(
            self.cache_name, remote_key(key, gens), blob, ttl=timedelta(seconds=max(1.0, retain))
        )
        if not isinstance(resp, CacheSet.Success):
            raise self._error(resp)
        self._count("sets")

    def invalidate(self, tables: frozenset[str]) -> int:
        dropped = self.front.invalidate(tables)
        with self._lock:
            self._pending_bumps.update(tables)
        self._flush_bumps(self._ready_client())
        return dropped

    def clear(self) -> None:
        self.front.clear()
        with self._lock:
            self._pending_bumps.add(EVERYTHING)
        self._flush_bumps(self._ready_client())


def _cause(resp: Any) -> BaseException | None:
    """The SDK exception inside an error response, for the log's traceback."""
    inner = getattr(resp, "inner_exception", None)
    return inner if isinstance(inner, BaseException) else None
