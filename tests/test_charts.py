"""ui/charts.py: a chart's datasets become Arrow once per content; the spec is left as it was."""

import copy
from datetime import date, timedelta

import pandas as pd
from streamlit import dataframe_util

from exports import charts as chart_specs
from ui import charts


def test_datasets_are_converted_once_and_the_spec_is_untouched(monkeypatch):
    days = [date(2026, 11, 21) + timedelta(days=i) for i in range(7)]
    spec = chart_specs.per_day_bars(
        pd.DataFrame({"day": days, "count": range(7), "partial": [False] * 6 + [True]}), "t"
    )
    before = copy.deepcopy(spec)
    drawn, conversions = [], []
    convert = dataframe_util.convert_anything_to_arrow_bytes
    monkeypatch.setattr(charts.dataframe_util, "convert_anything_to_arrow_bytes",
                        lambda rows: conversions.append(1) or convert(rows))  # fmt: skip
    monkeypatch.setattr(charts.st, "vega_lite_chart", lambda s, **kw: drawn.append(s))
    charts._arrow.clear()
    charts.show_chart(spec)
    charts.show_chart(spec)
    assert spec == before  # the image downloads use the very same spec
    [name] = spec["datasets"]
    assert all(d["datasets"][name] == convert(spec["datasets"][name]) for d in drawn)
    assert len(conversions) == 1
