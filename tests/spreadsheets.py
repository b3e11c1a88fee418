"""Reading back the files the product writes, as a script would (tests only)."""

from __future__ import annotations

import csv
import io

from exports import files
from exports.columns import names_of
from exports.formats import BOM


def split_csv(data: bytes) -> tuple[dict[str, str] | None, str]:
    """(provenance of a `# ...` first line or None, the CSV text after it). The
    file must start with the UTF-8 byte-order mark."""
    text = data.decode("utf-8")
    assert text.startswith(BOM), "a CSV file starts with the UTF-8 byte-order mark"
    text = text.removeprefix(BOM)
    if text.startswith("#"):
        first, rest = text.split("\n", 1)
        return files.parse_header_line(first), rest
    return None, text


def csv_rows(data: bytes) -> tuple[dict[str, str] | None, list[dict[str, str]]]:
    """(provenance or None, rows keyed by column *name*: headers are labels, mapped back)."""
    meta, text = split_csv(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = names_of(next(reader))
    return meta, [dict(zip(headers, row, strict=True)) for row in reader]


def csv_headers(data: bytes) -> list[str]:
    return next(csv.reader(io.StringIO(split_csv(data)[1], newline="")))
