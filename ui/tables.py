"""A table on screen under the labels its files carry (exports.columns): the frame
keeps its script names, Streamlit shows each column's label."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import streamlit as st

from exports.columns import label
from queries.memo import per_frame


def column_config(frame: pd.DataFrame, **help_texts: str) -> dict:
    """Each column's label, counts shown as whole numbers, flags as check boxes;
    `help_texts` by column name (shown on hovering the header)."""
    config: dict = {}
    for name in frame.columns:
        dtype, text = frame[name].dtype, label(str(name))
        helped = {"help": help_texts[name]} if name in help_texts else {}
        if pd.api.types.is_bool_dtype(dtype):
            config[name] = st.column_config.CheckboxColumn(text, **helped)
        elif pd.api.types.is_integer_dtype(dtype):
            config[name] = st.column_config.NumberColumn(text, format="%d", **helped)
        else:
            config[name] = st.column_config.Column(text, **helped)
    return config


TABLE_AND_DOWNLOADS = "Table and downloads"


def table_popover(key: str):
    """The "Table and downloads" popover under a chart, or None while it is closed: its
    table and half a dozen download buttons are built only when someone opens it (the
    page reruns then). On every other view they were a third of a Growth view's server
    time, for contents nobody sees."""
    box = st.popover(TABLE_AND_DOWNLOADS, icon=":material/table_view:", on_change="rerun", key=key)
    return box if box.open else None


def show_table(frame: pd.DataFrame, shown: pd.DataFrame | None = None, **help_texts: str) -> None:
    """`shown` (the presentable text of `frame`, exports.formats) under `frame`'s labels."""
    shown = frame if shown is None else shown
    rows = _arrow(shown)
    config = column_config(frame, **help_texts)
    st.dataframe(shown if rows is None else rows, hide_index=True, width="stretch", column_config=config)


@per_frame
def _arrow(shown: pd.DataFrame) -> pa.Table | None:
    """The rows as Arrow, made once per frame: a memoised frame (queries.memo) is shown
    on every view, and Streamlit would convert it again each time. None for mixed types
    in a column: Streamlit's own conversion copes with those."""
    try:
        return pa.Table.from_pandas(shown, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
