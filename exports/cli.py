"""`python -m queries export ...`: the page's downloads as files, for cron jobs and notebooks.
Long because it is one command line for every kind of export and the atomic
replacement of a file and its sidecar; split, each part would repeat the options.

    export explore --metric new_posts --granularity week --range last_30_days [--cumulative]
    export growth --table new_users_per_day
    export raw activities --range custom --start 2026-03-01 --end 2026-03-31

Same columns, same bytes (apart from the generated-at time) and same provenance
as the page; --format csv|xlsx|parquet|png|svg, --provenance sidecar|header
(sidecar by default: the CSV opens as it is in a spreadsheet; to stdout, `-o -`,
the provenance goes to stderr as one JSON line).

A file (and its sidecar) is replaced only by a complete, checked export: each is
written beside its target as `.<name>.<random>.part` and renamed onto it at the
end. A refused, failed or interrupted export leaves the old files as they were
and says so in one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from db.cli import whole_number
from exports import files, raw
from exports.pseudonyms import checked_secret, pseudonyms_for

TABLES = ("new_users_per_day", "new_posts_per_day", "new_messages_per_day")


def add_parser(sub: argparse._SubParsersAction) -> None:
    from queries.explore import GRANULARITIES, METRICS, PRESETS

    export = sub.add_parser("export", help="write the files the pages download (CSV, XLSX, Parquet, PNG, SVG, raw CSV)")
    kinds = export.add_subparsers(dest="what", required=True)

    def common(p, formats):
        p.add_argument("--tz", help="report time zone (default: REPORT_TZ)")
        p.add_argument("--out", "-o", help="file to write, or - for stdout (default: the page's file name here)")
        p.add_argument(
            "--provenance",
            choices=list(files.STYLES),
            default=files.DEFAULT_STYLE,
            help="a .provenance.json sidecar (default; to stderr with -o -) or a first '# ...' line of a CSV "
            "(XLSX: its second sheet and Parquet: its metadata, either way)",
        )
        if formats:
            p.add_argument("--format", "-f", choices=formats, default="csv")

    def ranged(p):
        p.add_argument("--range", choices=list(PRESETS), default="last_7_days")
        p.add_argument("--start", type=date.fromisoformat, help="custom range start (YYYY-MM-DD, local date)")
        p.add_argument("--end", type=date.fromisoformat, help="custom range end (YYYY-MM-DD, included)")

    images = list(files.IMAGE_FORMATS)
    p = kinds.add_parser("explore", help="a metric per bucket, as on the Explore page")
    p.add_argument("--metric", choices=list(METRICS), default="new_posts")
    p.add_argument("--granularity", choices=list(GRANULARITIES), default="day")
    p.add_argument("--cumulative", action="store_true")
    ranged(p)
    common(p, [*files.FILE_FORMATS, *images])
    p = kinds.add_parser("growth", help="a per-day table of the Growth page")
    p.add_argument("--table", choices=TABLES, required=True)
    common(p, [*files.FILE_FORMATS, *images])
    from queries.engagement import TABLES as ENGAGEMENT_TABLES

    p = kinds.add_parser("engagement", help="active users, retention or lifecycle, as on the Engagement page")
    p.add_argument("--table", choices=list(ENGAGEMENT_TABLES), required=True)
    p.add_argument("--granularity", choices=list(GRANULARITIES), default="week")
    ranged(p)
    p.set_defaults(range="last_90_days")
    common(p, [*files.FILE_FORMATS, *images])
    p = kinds.add_parser("raw", help="raw rows in a range, streamed from PostgreSQL (COPY)")
    p.add_argument("kind", choices=raw.RAW_KINDS)
    p.add_argument(
        "--max-rows",
        type=whole_number(1, 2**63 - 1),
        help="keep only the oldest N rows (the file says so); default: every row",
    )
    p.add_argument(
        "--pseudonymise",
        metavar="KEY",
        help="hash e-mail and Cognito ids with export key KEY (stable for one key; needs EXPORT_SIGNING_KEY) "
        "and mask e-mail-like text, as the page does for analysts who are not admins",
    )
    ranged(p)
    # CSV only: it streams from COPY in flat memory; an XLSX is built whole in memory.
    common(p, ["csv"])


def export(args: argparse.Namespace) -> int:
    """The export `args` ask for; the exit status. A failure once a file is named
    is reported here (see _report); any other propagates to queries.__main__."""
    try:
        return _run(args)
    except _Unchanged as failed:
        return _report(failed.__cause__ or failed, failed.target)
    except (Exception, KeyboardInterrupt) as exc:
        if args.out in (None, "-"):
            raise
        return _report(exc, Path(args.out))


def _report(exc: BaseException, target: Path) -> int:
    """One line on stderr, and the status queries.__main__ gives the same error
    (2: refused or a file error, 1: the database or anything else; 130: Ctrl-C)."""
    from db.errors import safe_message

    if isinstance(exc, KeyboardInterrupt):
        message, status = "interrupted", 130
    elif isinstance(exc, OSError) and exc.strerror and not exc.filename:  # "No space left on device"
        message, status = exc.strerror, 2
    elif isinstance(exc, OSError) and exc.strerror:  # "/tmp/x: Is a directory", not "[Errno 21] ..."
        message, status = f"{exc.filename}: {exc.strerror}", 2
    elif isinstance(exc, (ValueError, OSError)):  # ExploreError and ConfigError are ValueErrors
        message, status = str(exc), 2
    else:
        message, status = safe_message(exc), 1
    print(f"error: {message.rstrip('.')}; {target} was not changed", file=sys.stderr)
    return status


def _run(args: argparse.Namespace) -> int:
    from db.settings import get_settings, valid_timezone

    tz = valid_timezone(args.tz or get_settings().report_tz)
    given = [
        flag
        for flag, value in (("--start", getattr(args, "start", None)), ("--end", getattr(args, "end", None)))
        if value
    ]
    if given and getattr(args, "range", "custom") != "custom":
        verb = "need" if len(given) > 1 else "needs"
        raise ValueError(f"{' and '.join(given)} {verb} --range custom (the range is {args.range})")
    if args.what == "raw":
        return _raw(args, tz)
    made, chart = _aggregate(args, tz)
    if args.format in files.IMAGE_FORMATS:
        data = files.chart_image(chart, args.format)
        _emit([files.ExportFile(f"{made}.{args.format}", data, files.IMAGE_FORMATS[args.format])], args.out)
        return 0
    _emit(made, args.out)
    return 0


def _aggregate(args: argparse.Namespace, tz: str) -> tuple[Any, Any]:
    from exports import charts

    if args.what == "explore":
        from queries.explore import explore, resolve_range

        rng = resolve_range(args.range, tz=tz, start=args.start, end=args.end, fresh=True, metric=args.metric)
        data = explore(
            args.metric, rng=rng, granularity=args.granularity, tz=tz, cumulative=args.cumulative, fresh=True
        )
        frame, provenance, stem = data.frame, files.explore_provenance(data), data.file_stem
        chart_of = lambda: charts.bucket_chart(frame, data.chart_title, args.granularity, cumulative=args.cumulative)
    elif args.what == "engagement":
        from exports import engagement

        frame, provenance, stem, chart_of = engagement.export_parts(
            args.table, granularity=args.granularity, preset=args.range, start=args.start, end=args.end, tz=tz
        )
    else:
        import psycopg

        from exports.formats import presentable
        from queries.reads import run as run_query

        try:
            frame = run_query(args.table, fresh=True, tz=tz)
        except psycopg.errors.UndefinedTable as exc:  # new_messages_per_day before migration 0005
            from queries.explore import NO_MESSAGES

            raise ValueError(NO_MESSAGES) from exc
        provenance, stem = files.per_day_provenance(frame, dataset=args.table, tz=tz), args.table
        title = args.table.replace("_", " ").capitalize()  # the Growth page's subheader
        chart_of = lambda: charts.per_day_bars(presentable(frame), f"{title} ({tz})")
    if args.format in files.IMAGE_FORMATS:
        return stem, chart_of()
    return files.aggregate_files(frame, provenance, fmt=args.format, style=args.provenance, stem=stem), None


def _raw(args: argparse.Namespace, tz: str) -> int:
    from queries.explore import resolve_range

    rng = resolve_range(args.range, tz=tz, start=args.start, end=args.end, fresh=True)
    pseudonyms = None
    if args.pseudonymise is not None:
        from db.settings import get_settings

        secret = get_settings().export_signing_key
        if not secret:
            raise ValueError("--pseudonymise needs EXPORT_SIGNING_KEY: the export key is derived from it")
        pseudonyms = pseudonyms_for(checked_secret(secret), args.pseudonymise)

    def stream(out: BinaryIO) -> raw.RawResult:
        return raw.stream_raw(
            args.kind,
            out,
            tz=tz,
            start_day=rng.start,
            end_day=rng.end,
            style=args.provenance,
            max_rows=args.max_rows,
            cap_source="--max-rows",
            pseudonyms=pseudonyms,
        )

    path = None if args.out == "-" else Path(args.out or raw.raw_file_name(args.kind, rng.start, rng.end))
    if path is None:
        try:
            result = stream(sys.stdout.buffer)
        finally:
            sys.stdout.buffer.flush()
        if args.provenance == "sidecar":
            _provenance_to_stderr(result.provenance)
    else:
        sidecar = [Path(files.sidecar_name(str(path)))] if args.provenance == "sidecar" else []
        with _replacing(path, *sidecar) as (out, *sidecar_out):
            result = stream(out)  # raises, before any rename, when COPY sent other rows than counted
            for file in sidecar_out:
                file.write(result.provenance.to_json().encode())
    note = f" (TRUNCATED: the oldest {result.rows:,} of {result.total_rows:,})" if result.truncated else ""
    print(f"{path or 'stdout'}: {result.rows:,} {args.kind} rows, {result.bytes:,} bytes{note}", file=sys.stderr)
    return 0


def _emit(made: list[files.ExportFile], out: str | None) -> None:
    """The data file to --out (or its own name), a sidecar next to it."""
    data_file, *sidecars = made
    if out == "-":
        if sys.stdout.isatty() and not data_file.mime.startswith(("text/", "image/svg")):
            kind = data_file.name.rsplit(".", 1)[-1].upper()
            raise ValueError(f"{kind} is binary: redirect it (-o - > FILE) or name a file with -o")
        sys.stdout.buffer.write(data_file.data)
        sys.stdout.buffer.flush()
        for sidecar in sidecars:
            _provenance_to_stderr(json.loads(sidecar.data))
        return
    path = Path(out or data_file.name)
    with _replacing(path, *(Path(files.sidecar_name(str(path))) for _ in sidecars)) as outs:
        for file, written in zip(made, outs, strict=True):
            written.write(file.data)
    print(
        f"{path}: {len(data_file.data):,} bytes" + (f" + {files.sidecar_name(str(path))}" if sidecars else ""),
        file=sys.stderr,
    )


def _provenance_to_stderr(provenance: files.Provenance | dict) -> None:
    """A sidecar that has no file to sit beside (-o -): one JSON line on stderr."""
    about = provenance.as_dict() if isinstance(provenance, files.Provenance) else provenance
    print("provenance: " + json.dumps(about, ensure_ascii=False), file=sys.stderr)


class _Unchanged(Exception):
    """A failure (the __cause__) after which `target` was left as it was."""

    def __init__(self, target: Path):
        super().__init__(str(target))
        self.target = target


@contextmanager
def _replacing(*targets: Path) -> Iterator[list[BinaryIO]]:
    """Files to write for `targets`: temporary files beside them, renamed onto
    them (os.replace, atomic) only when the block ends without error, the data
    file and its sidecar together. On any failure, Ctrl-C included, they are
    removed and _Unchanged is raised. A target that exists but is not a regular
    file (/dev/stdout, a FIFO) is written in place: it cannot be replaced."""
    parts: list[tuple[Path | None, Path, BinaryIO]] = []
    try:
        for target in targets:
            if target.exists() and not target.is_file():
                parts.append((None, target, target.open("wb")))
            else:
                parts.append(_part_beside(Path(os.path.realpath(target))))  # through a symlink, as open() writes
        yield [file for _, _, file in parts]
        for part, _, file in parts:
            file.flush()
            if part is not None:
                os.fsync(file.fileno())  # the data on disk before it takes the name
            file.close()
        _replace_together([(part, target) for part, target, _ in parts if part is not None])
    except (Exception, KeyboardInterrupt) as exc:
        raise _Unchanged(targets[0]) from exc
    finally:
        for part, _, file in parts:
            file.close()
            if part is not None:
                part.unlink(missing_ok=True)


def _replace_together(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each part onto its target; if one rename fails, put the targets
    renamed before it back as they were (from hard-link backups), so a data file
    and its sidecar never end up from two different exports."""
    backups: dict[Path, Path | None] = {}  # target -> its old file's backup, or None: there was none
    done: list[Path] = []
    try:
        for part, target in pairs:
            backup = None
            if target.is_file():
                backup = target.with_name(f".{target.name}.{os.getpid()}.old")
                os.link(target, backup)
            backups[target] = backup
            os.replace(part, target)
            done.append(target)
    except BaseException:
        for target in done:
            old = backups[target]
            if old is not None:
                os.replace(old, target)
            else:
                target.unlink(missing_ok=True)
        raise
    finally:
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


def _part_beside(target: Path) -> tuple[Path, Path, BinaryIO]:
    """A new `.<name>.<random>.part` in the target's directory (so the rename
    cannot cross file systems), with the mode the target has or open() would give."""
    while True:
        part = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:  # name the directory, not the temporary file
            why = "no such directory" if isinstance(exc, FileNotFoundError) else exc.strerror
            raise OSError(exc.errno, f"cannot write a file in {target.parent}: {why}") from exc
        with suppress(OSError):  # a new target keeps the umask's mode
            shutil.copymode(target, part)
        return part, target, os.fdopen(fd, "wb")
