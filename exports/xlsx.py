"""XLSX of a table: typed cells on a "Data" sheet under the screen's labels, the
provenance on a second sheet (exports.files makes the file; openpyxl writes it)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from exports.columns import label
from exports.formats import presentable, text_of

if TYPE_CHECKING:
    from exports.files import Provenance


def to_xlsx(frame: pd.DataFrame, provenance: Provenance) -> bytes:
    """The table on a first sheet, "Data", typed: dates as dates (shown
    YYYY-MM-DD), counts as integers, flags as booleans, text as text (never run as
    a formula: the cell is a string whatever it starts with, so no quote is
    added); headers are the screen's labels. The second sheet, "Provenance",
    holds the provenance, then each column's name and label."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    wb = Workbook()
    data = wb.active
    data.title = "Data"
    _append(data, [label(str(c)) for c in frame.columns])
    for values in frame.itertuples(index=False):
        _append(data, values)
    dated = [i for i, c in enumerate(frame.columns, 1) if _is_date_column(frame[c])]
    for col in dated:
        for (cell,) in data.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = "yyyy-mm-dd"
    for cell in data[1]:
        cell.font = Font(bold=True)
    data.freeze_panes = "A2"
    for i, c in enumerate(frame.columns):
        width = max([len(label(str(c))), 10, *(len(str(v)) for v in presentable(frame[[c]])[c].head(200))])
        data.column_dimensions[data.cell(row=1, column=i + 1).column_letter].width = min(width + 2, 60)

    sheet = wb.create_sheet("Provenance")
    about = provenance.as_dict()
    names = about.pop("columns", {})
    for key, value in about.items():
        _append(sheet, [key, value if isinstance(value, (int, float)) else text_of(value)])
    if names:
        sheet.append([])
        sheet.append(["column name (scripts, Parquet)", "label (screen, CSV, XLSX)"])
        for name, text in names.items():
            _append(sheet, [name, text])
    sheet.column_dimensions["A"].width = 32
    sheet.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _is_date_column(series: pd.Series) -> bool:
    return bool(series.map(lambda v: isinstance(v, date) and not isinstance(v, datetime)).any())


def _append(sheet: Any, values: Iterable[Any]) -> None:
    """One row of cells: numpy scalars as Python numbers, zoned times as ISO text
    with their offset (a spreadsheet time has no zone), missing values empty, text
    as text even when it starts with `=` or is an error's name like `#N/A`
    (openpyxl would store a formula or an error: see to_xlsx) and without the
    control characters XML cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]

    out: list = []
    for value in values:
        if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)):
            out.append(None)
        elif isinstance(value, datetime):
            out.append(value.isoformat() if value.tzinfo else value)
        elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
            out.append(value.item())  # numpy int64 / bool_ / float64
        elif isinstance(value, str):
            out.append(ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
        else:
            out.append(value)
    sheet.append(out)
    for cell in sheet[sheet.max_row]:
        if cell.data_type in ("f", "e"):
            cell.data_type = "s"
