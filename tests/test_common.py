"""The sidebar every page shares (ui/common.py) through Streamlit's AppTest, on a real database."""

from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.helpers import add_post, add_user

DASHBOARD = str(ROOT / "dashboard.py")


def test_the_sidebar_offers_every_place_s_zone_and_the_page_follows_it(db):
    add_post(db, add_user(db, "someone"))
    at = AppTest.from_file(DASHBOARD, default_timeout=30).run()
    box = at.sidebar.selectbox[0]
    assert box.options[:3] == ["UTC", "America/Los_Angeles", "America/Denver"]  # REPORT_TZ, then the common ones
    assert {"America/Havana", "Asia/Kathmandu", "Pacific/Chatham", "Atlantic/Azores"} <= set(box.options)
    assert len(box.options) == len(set(box.options)) > 400
    at = box.select("America/Havana").run()
    assert not at.exception
    assert "America/Havana" in " ".join(c.value for c in at.caption)
