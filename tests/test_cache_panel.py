"""The sidebar cache panel (ui/cache_panel.py) through AppTest, on a real database."""

from streamlit.testing.v1 import AppTest

from queries import reads
from tests.helpers import popovers


def panel_app():
    from ui.cache_panel import cache_panel

    cache_panel()


def panel(at):
    [box] = popovers(at.sidebar, "Cache")
    return box


def test_it_shows_the_backend_counts_and_last_database_times(db):
    reads.run("total_users")
    reads.run("total_users")
    at = AppTest.from_function(panel_app, default_timeout=30).run()
    assert not at.exception
    box = panel(at)
    assert "in-process" in box.caption[0].value
    assert "hits **1**" in box.markdown[0].value and "misses **1**" in box.markdown[0].value
    [row] = [
        line
        for markdown in box.markdown
        for line in markdown.value.splitlines()
        if line.startswith("| `total_users` |")
    ]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:6] == ["1", "1", "0", "0", "1"]  # hits, misses, stale, errors, DB queries
    assert float(cells[6]) > 0  # last DB ms
    assert not at.sidebar.button  # clearing is for admins


def test_an_admin_can_clear_the_cache(db):
    reads.run("total_users")
    at = AppTest.from_function(panel_app, default_timeout=30)
    at.session_state["admin_user"] = "admin"
    at.run()
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert reads.run("total_users").attrs["from_cache"] is False
    assert reads.stats.db_queries["total_users"] == 2


def test_it_names_momento_when_that_is_the_backend(db, monkeypatch):
    monkeypatch.setenv("MOMENTO_API_KEY", "not-a-real-key")
    reads.run("total_users")  # the key is unusable: the database answers, the error is counted
    at = AppTest.from_function(panel_app, default_timeout=30).run()
    box = panel(at)
    assert "Momento cache `cruddur-dashboard`" in box.caption[0].value
    assert "unreachable" in box.caption[0].value
    assert "not-a-real-key" not in str(at._tree)
