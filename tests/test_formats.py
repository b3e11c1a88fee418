"""Renderings of a result (queries/formats.py): CSV text cannot run as a spreadsheet formula."""

import csv
import io
from datetime import date

import pandas as pd
import pytest

from exports.formats import FORMULA_STARTS, neutralise, presentable, to_csv, to_json

EVIL = '=HYPERLINK("http://evil","x")'


@pytest.mark.parametrize("text", [EVIL, "+cmd", "-2+3", "@SUM(1)", "\tcmd", "\rcmd"])
def test_formula_like_text_gets_a_leading_quote(text):
    assert text[0] in FORMULA_STARTS
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["hello", "", " =1", "'=1", "2026-03-01", "#tag", None, -5, -2.5, date(2026, 3, 1)])
def test_other_values_are_left_alone(value):
    assert neutralise(value) is value


def test_csv_prefixes_only_text_cells_and_keeps_negative_numbers():
    frame = pd.DataFrame(
        {
            "name": [EVIL, "+cmd", "plain", None],
            "note": pd.array(["@SUM(1)", "-2+3", "\tx", "ok"], dtype="string"),
            "count": [-1, 2, -3, 4],
            "ratio": [-0.5, 1.5, -2.0, 0.0],
            "day": [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)],
        }
    )
    rows = list(csv.DictReader(io.StringIO(to_csv(frame))))
    assert [r["name"] for r in rows] == ["'" + EVIL, "'+cmd", "plain", ""]
    assert [r["note"] for r in rows] == ["'@SUM(1)", "'-2+3", "'\tx", "ok"]
    assert [r["count"] for r in rows] == ["-1", "2", "-3", "4"]
    assert [r["ratio"] for r in rows] == ["-0.5", "1.5", "-2.0", "0.0"]
    assert [r["day"] for r in rows] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    # The CSV writer's own quoting still applies (the display name holds quotes and a comma).
    assert '"\'=HYPERLINK(""http://evil"",""x"")"' in to_csv(frame)


def test_csv_differs_from_the_table_shown_only_by_the_quote():
    frame = pd.DataFrame({"handle": ["+cmd", "andrew"], "count": [-1, 1]})
    shown = presentable(frame)
    assert shown["handle"].tolist() == ["+cmd", "andrew"]  # the page shows the exact value
    assert to_csv(frame) == shown.assign(handle=["'+cmd", "andrew"]).to_csv(index=False, lineterminator="\n")
    assert '"+cmd"' in to_json(frame)  # only CSV is neutralised
