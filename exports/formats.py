"""One rendering of a result for the page table, the CSV download and the CLI,
so that what is shown and what is downloaded are the same rows and text (a CSV
differs only by the quote that neutralises a would-be formula, see below)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

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


def presentable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, everything else as is (attrs dropped: they are not data)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, dt.date)).any():
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
    out.attrs = {}
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """The table as CSV, text cells neutralised; numeric columns are never touched."""
    out = presentable(frame)
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(neutralise)
    return out.to_csv(index=False, lineterminator="\n")


def to_json(frame: pd.DataFrame) -> str:
    return presentable(frame).to_json(orient="records", date_format="iso", force_ascii=False, indent=2) + "\n"


def to_table(frame: pd.DataFrame) -> str:
    return presentable(frame).to_string(index=False) + "\n"


RENDERERS = {"csv": to_csv, "json": to_json, "table": to_table}
