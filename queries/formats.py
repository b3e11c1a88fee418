"""One rendering of a result for the page table, the CSV download and the CLI,
so that what is shown and what is downloaded are the same rows and text."""
from __future__ import annotations

import datetime as dt

import pandas as pd


def presentable(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text, everything else as is (attrs dropped: they are not data)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, dt.date)).any():
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
    out.attrs = {}
    return out


def to_csv(frame: pd.DataFrame) -> str:
    return presentable(frame).to_csv(index=False, lineterminator="\n")


def to_json(frame: pd.DataFrame) -> str:
    return presentable(frame).to_json(orient="records", date_format="iso", force_ascii=False, indent=2) + "\n"


def to_table(frame: pd.DataFrame) -> str:
    return presentable(frame).to_string(index=False) + "\n"


FORMATS = {"csv": to_csv, "json": to_json, "table": to_table}
