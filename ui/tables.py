"""A table on screen under the labels its files carry (exports.columns): the frame
keeps its script names, Streamlit shows each column's label."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from exports.columns import label


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


def show_table(frame: pd.DataFrame, shown: pd.DataFrame | None = None, **help_texts: str) -> None:
    """`shown` (the presentable text of `frame`, exports.formats) under `frame`'s labels."""
    shown = frame if shown is None else shown
    st.dataframe(shown, hide_index=True, width="stretch", column_config=column_config(frame, **help_texts))
