"""ui/tables.py: tables shown under their files' labels, their rows turned into Arrow once."""

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.helpers import add_post, add_user, popovers
from ui import tables

PAGE = str(ROOT / "pages" / "growth.py")


def test_a_frame_is_turned_into_arrow_once_and_mixed_columns_are_left_to_streamlit():
    shown = pd.DataFrame({"day": ["2026-11-27"], "count": [3]})
    first = tables._arrow(shown)
    assert isinstance(first, pa.Table) and first.column_names == ["day", "count"] and first.num_rows == 1
    assert tables._arrow(shown) is first  # the same frame: the same Arrow table
    assert tables._arrow(pd.DataFrame({"value": [1, "x"]})) is None  # Streamlit converts it itself


def test_a_charts_table_and_files_are_built_only_once_its_popover_is_open(db):
    """Closed, "Table and downloads" costs the view nothing (no table, no file buttons);
    opening it reruns the page with them, as a click does."""
    add_post(db, add_user(db, "ann"))
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert len(popovers(at, "Table and downloads")) == 2
    assert not at.dataframe and not [b for b in at.download_button if b.key.startswith("table-")]
    at.session_state["table-and-downloads-posts"] = True
    at.run()
    assert not at.exception and not at.error
    assert len(at.dataframe) == 1 and at.dataframe[0].value["count"].sum() >= 0
    assert {b.key for b in at.download_button if b.key.startswith("table-")} >= {"table-posts-new_posts_per_day.csv"}
