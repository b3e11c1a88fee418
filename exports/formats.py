"""One rendering of a result for the page table, the CSV download and the CLI,
so that what is shown and what is downloaded are the same rows and text (a CSV
differs only by the quote that neutralises a would-be formula, see below).

`to_csv` is the terminal's and a script's CSV (column names); `csv_file` is the
file a person opens in a spreadsheet: the screen's labels as headers, UTF-8 with
a byte-order mark (without it Excel reads UTF-8 as the system's code page and
mangles "é" and emoji; LibreOffice and Google Sheets skip it)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from exports.columns import label

# A spreadsheet runs a text cell starting with one of these as a formula
# (`=HYPERLINK(...)` in a display name); OWASP's advice is to prefix a `'`.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# What provenance says of a CSV made so (Parquet is typed: its values stay exact).
CSV_FORMULAS_KEY, CSV_FORMULAS_VALUE = "csv_formulas", "neutralised"


def neutralise(value):
    """`value` made inert in a spreadsheet: text starting with a formula
    character gets a leading `'`; anything that is not text is left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


BOM = "\ufeff"


def _iso(value):
    """A date as YYYY-MM-DD; a time with its zone as ISO 8601 with its UTC offset
    (2026-11-01T01:30:00-04:00), so the two 01:30s of a DST fall-back differ."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def presentable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates and zoned times as ISO text, everything else as is (attrs dropped: they are not data)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].map(lambda v: None if pd.isna(v) else v.isoformat()).astype(object)
        elif out[col].dtype == object and out[col].map(lambda v: isinstance(v, dt.date)).any():
            out[col] = out[col].map(_iso)
    out.attrs = {}
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """The table as CSV, text cells neutralised; numeric columns are never touched."""
    out = presentable(frame)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise)
    return out.to_csv(index=False, lineterminator="\n")


def csv_file(frame: pd.DataFrame) -> bytes:
    """The table as a CSV file, without the byte-order mark (exports.files puts it
    first, before a provenance line when one is asked for): headers are the
    screen's labels (exports.columns), text neutralised."""
    return to_csv(frame.rename(columns=label)).encode()


def text_of(value: object) -> str:
    """A provenance value as text: booleans as JSON writes them, None empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def to_json(frame: pd.DataFrame) -> str:
    return presentable(frame).to_json(orient="records", date_format="iso", force_ascii=False, indent=2) + "\n"


def to_table(frame: pd.DataFrame) -> str:
    return presentable(frame).to_string(index=False) + "\n"


RENDERERS = {"csv": to_csv, "json": to_json, "table": to_table}
