"""The Explore page (pages/explore.py) through Streamlit's AppTest, on a real database.

Long because the page's every part is here on one set of fixtures: the table and
its files, raw extracts (full and pseudonymised), and the view in its URL.
"""

import asyncio
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pyarrow.parquet as pq
import pytest
from PIL import Image
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from exports import files
from exports.columns import COLUMNS
from exports.formats import BOM
from tests.conftest import ROOT
from tests.helpers import Downloads, add_post, add_user
from tests.spreadsheets import csv_headers, csv_rows, split_csv

PAGE = str(ROOT / "pages" / "explore.py")
NY = "America/New_York"


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def some_rows(db):
    ids = [add_user(db, f"user{i}", now_utc() - timedelta(days=i * 9, hours=2)) for i in range(8)]
    for i in range(60):
        add_post(db, ids[i % 5], now_utc() - timedelta(hours=i * 13))
    return db


@pytest.fixture
def downloads(monkeypatch):
    return Downloads(monkeypatch)


def page(tz="UTC", admin=True, url=None, **choices):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["report_tz"] = tz
    if admin:  # full raw extracts hold personal data: signed-in admins only
        at.session_state["admin_user"] = "admin"
    for key, value in choices.items():
        at.session_state[f"explore_{key}"] = value
    at.query_params.update(url or {})
    return at.run()


def screen_labels(at, i=0) -> list[str]:
    """The headers the table on screen shows: its column config's labels."""
    config = json.loads(at.dataframe[i].proto.columns)
    return [config[name]["label"] for name in at.dataframe[i].value.columns]


def button(at, key_end):
    """A download button by the end of its key (table buttons end with their file name)."""
    [match] = [b for b in at.download_button if b.key.endswith(key_end)]
    return match


def test_csv_download_is_the_table_shown_byte_for_byte(some_rows, downloads):
    at = page(NY, metric="new_posts", range="last_90_days", unit="week", cumulative=True)
    assert not at.exception and not at.error
    at.radio(key="provenance_style").set_value("header").run()
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["period_start", "period_end", "count", "cumulative", "partial"]
    labels = screen_labels(at)
    assert labels == ["Period start", "Period end", "Count", "Running total", "Partial"]
    stem = f"new_posts_by_week_{shown['period_start'].iloc[0]}_{shown['period_end'].iloc[-1]}_cumulative"
    meta, rest = split_csv(downloads.bytes_of(button(at, f"{stem}.csv")))
    assert rest == shown.set_axis(labels, axis=1).to_csv(index=False, lineterminator="\n")
    assert (meta["tz"], meta["granularity"], meta["rows"]) == (NY, "week", str(len(shown)))
    assert meta["range"] == f"{shown['period_start'].iloc[0]}..{shown['period_end'].iloc[-1]}"
    assert meta["csv_formulas"] == "neutralised"
    # Every bucket of the 90 days is there, oldest first, and the running total ends at the platform total.
    assert shown["period_start"].is_monotonic_increasing and shown["partial"].iloc[-1]
    total = some_rows.execute("SELECT count(*) FROM activities").fetchone()[0]
    assert int(shown["cumulative"].iloc[-1]) == total
    assert f"ends at {total:,}, the platform total" in " ".join(c.value for c in at.caption)
    parquet = pq.read_table(io.BytesIO(downloads.bytes_of(button(at, f"{stem}.parquet")))).to_pandas()
    assert parquet["count"].tolist() == shown["count"].tolist()


def test_by_default_the_csv_opens_as_it_is_and_its_provenance_is_a_json(some_rows, downloads):
    at = page(metric="new_users", range="all_time", unit="month")
    assert at.radio(key="provenance_style").value == "sidecar"
    shown = at.dataframe[0].value
    [csv_name] = [b.key.removeprefix("explore-table-") for b in at.download_button if b.key.endswith(".csv")]
    data = downloads.bytes_of(button(at, csv_name))
    assert data.startswith(BOM.encode() + b"Period start,Period end,Count,Partial\n")
    assert data.decode() == BOM + shown.set_axis(screen_labels(at), axis=1).to_csv(index=False, lineterminator="\n")
    sidecar = downloads.bytes_of(button(at, files.sidecar_name(csv_name)))
    assert b'"rows": %d' % len(shown) in sidecar and b'"granularity": "month"' in sidecar
    assert b'"csv_formulas": "neutralised"' in sidecar
    assert json.loads(sidecar)["columns"] == {name: COLUMNS[name] for name in shown.columns}


def test_headers_of_every_file_equal_the_screens_labels(some_rows, downloads):
    import openpyxl

    at = page(NY, metric="new_posts", range="last_30_days", unit="week", cumulative=True)
    labels = screen_labels(at)
    shown = at.dataframe[0].value
    [stem] = [
        b.key.removeprefix("explore-table-").removesuffix(".csv") for b in at.download_button if b.key.endswith(".csv")
    ]
    assert csv_headers(downloads.bytes_of(button(at, f"{stem}.csv"))) == labels
    book = openpyxl.load_workbook(io.BytesIO(downloads.bytes_of(button(at, f"{stem}.xlsx"))))
    sheet = book["Data"]
    assert [c.value for c in sheet[1]] == labels
    assert [type(c.value).__name__ for c in sheet[2]] == ["datetime", "datetime", "int", "int", "bool"]
    assert [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)] == shown["count"].tolist()
    provenance = dict(book["Provenance"].iter_rows(max_col=2, values_only=True))
    assert provenance["tz"] == NY and provenance["rows"] == len(shown) and provenance["dataset"] == "explore.new_posts"
    table = pq.read_table(io.BytesIO(downloads.bytes_of(button(at, f"{stem}.parquet"))))
    assert table.column_names == list(shown.columns)  # scripts keep the names; each field carries its label
    assert [table.schema.field(n).metadata[b"label"].decode() for n in table.column_names] == labels


def test_chart_png_button_gives_a_real_image(some_rows, downloads):
    at = page(metric="new_posts", unit="day")
    image = Image.open(io.BytesIO(downloads.bytes_of(button(at, "explore-chart-png")))).convert("RGB")
    assert image.size[0] > 1600 and image.size[1] > 600  # 800 x 300 plot at scale 2
    colours = {rgb for _, rgb in image.getcolors(maxcolors=image.size[0] * image.size[1])}
    assert (0x5B, 0x4F, 0xE9) in colours


def raw_link(at, key):
    [match] = [b for b in at.link_button if b.key == key]
    return match


def follow(link) -> bytes:
    """What the link gives: the real route (web.export_route) served in this process,
    where the page signed the link (the real app is tested in test_export_route)."""
    import web

    async def get():
        transport = httpx.ASGITransport(app=Starlette(routes=web.routes()))
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
            return await client.get(link.proto.url)

    response = asyncio.run(get())
    assert response.status_code == 200, response.text
    return response.content


def test_raw_extract_shows_its_count_and_links_to_every_row(some_rows):
    at = page(range="all_time")
    at.radio(key="provenance_style").set_value("header").run()
    counts = {m.label: m.value for m in at.metric}
    total = some_rows.execute("SELECT count(*) FROM activities").fetchone()[0]
    assert counts["Raw activities in the range"] == f"{total:,}"
    link = raw_link(at, "raw-activities-header")
    assert link.proto.label == "Download raw activities (CSV)" and link.proto.url.startswith("/export/raw?")
    assert not [b for b in at.download_button if "raw-" in b.key]  # nothing served from memory
    meta, rows = csv_rows(follow(link))
    assert len(rows) == total == int(meta["rows"]) and meta["personal_data"] == "full"
    assert all(r["email"].endswith("@test.com") for r in csv_rows(follow(raw_link(at, "raw-users-header")))[1])


def test_analysts_who_are_not_admins_get_pseudonymised_extracts(some_rows):
    at = page(range="all_time", admin=False)
    assert "replaced by pseudonyms" in " ".join(i.value for i in at.info)
    assert at.metric  # the counts stay visible
    link = raw_link(at, "raw-users-sidecar-pseudonymised")
    assert link.proto.label == "Download raw users (ZIP: CSV + JSON, pseudonymised)"
    with zipfile.ZipFile(io.BytesIO(follow(link))) as zf:
        csv_name, json_name = zf.namelist()
        data, meta = zf.read(csv_name), json.loads(zf.read(json_name))
    assert b"@" not in data and meta["personal_data"] == "pseudonymised" and meta["pseudonym_key"] == "analysis"
    assert meta["pseudonymised"] == "email;cognito_user_id"
    assert len(csv_rows(data)[1]) == 8
    # Another export key: other pseudonyms for the same people.
    at.text_input(key="explore_export_key").set_value("another study").run()
    with zipfile.ZipFile(io.BytesIO(follow(raw_link(at, "raw-users-sidecar-pseudonymised")))) as zf:
        other = csv_rows(zf.read(csv_name))[1]
    assert {r["email"] for r in other}.isdisjoint({r["email"] for r in csv_rows(data)[1]})


def test_raw_extract_in_sidecar_style_is_a_zip(some_rows):
    at = page(range="all_time")
    link = raw_link(at, "raw-users-sidecar")
    assert "ZIP" in link.proto.label
    with zipfile.ZipFile(io.BytesIO(follow(link))) as zf:
        csv_name, json_name = zf.namelist()
        assert json_name == files.sidecar_name(csv_name)
        assert len(zf.read(csv_name).decode().strip().split("\n")) == 1 + 8


def test_a_configured_cap_is_announced_and_the_file_says_so(some_rows, monkeypatch):
    monkeypatch.setenv("RAW_EXPORT_MAX_ROWS", "10")
    at = page(range="all_time")
    at.radio(key="provenance_style").set_value("header").run()
    warning = " ".join(w.value for w in at.warning)
    assert "stop at 10 rows (RAW_EXPORT_MAX_ROWS)" in warning and "python -m queries export raw activities" in warning
    link = raw_link(at, "raw-activities-header")
    meta, _ = split_csv(follow(link))
    assert meta["truncated"] == "true" and meta["rows"] == "10" and meta["total_rows"] == "60"
    monkeypatch.setenv("RAW_EXPORT_MAX_ROWS", "3")  # lowered since: the server's cap wins
    assert split_csv(follow(link))[0]["rows"] == "3"


def test_custom_range_and_granularity_controls(some_rows):
    at = page(range="custom", unit="month")
    assert "Custom:" in at.caption[0].value
    at.segmented_control(key="explore_unit").set_value("week").run()
    weeks = at.dataframe[0].value
    assert all(datetime.fromisoformat(d).weekday() == 0 for d in weeks["period_start"].iloc[1:])


def test_database_down_shows_a_plain_message(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://nobody:s3cretpw@127.0.0.1:9/nowhere?connect_timeout=1")
    monkeypatch.setenv("POOL_TIMEOUT_MS", "1000")
    at = page()
    assert not at.exception
    assert "database is unavailable" in at.error[0].value and "s3cretpw" not in at.error[0].value


def test_dashboard_routes_to_explore(some_rows):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception
    assert at.title[0].value == "Explore"


def test_a_weak_signing_key_is_shown_instead_of_a_link(some_rows, monkeypatch):
    monkeypatch.setenv("EXPORT_SIGNING_KEY", "too-short")
    at = page(range="all_time")
    assert not at.exception and not [b for b in at.link_button if "raw-" in (b.key or "")]
    assert "EXPORT_SIGNING_KEY must be at least 32 characters" in at.error[0].value


# --- the view in the URL -------------------------------------------------------------


def test_the_view_is_written_into_the_url(some_rows):
    at = page(NY, metric="active_authors", range="last_90_days", unit="month", cumulative=True)
    assert dict(at.query_params) == {
        "metric": "active_authors",
        "range": "last_90_days",
        "granularity": "month",
        "cumulative": "true",
        "tz": NY,
    }
    at.selectbox(key="explore_range").set_value("custom").run()
    assert at.query_params["dates"] == f"{datetime.now(UTC).date() - timedelta(days=29)}..{datetime.now(UTC).date()}"
    at.selectbox(key="explore_range").set_value("last_7_days").run()
    assert "dates" not in at.query_params


def test_a_link_opens_the_view_it_names(some_rows):
    start, end = datetime.now(UTC).date() - timedelta(days=40), datetime.now(UTC).date() - timedelta(days=3)
    url = {
        "metric": "new_posts",
        "range": "custom",
        "granularity": "week",
        "cumulative": "true",
        "dates": f"{start}..{end}",
    }
    at = page(url=url)
    assert not at.exception and not at.info[:-1]  # only the raw rows' note: no link note
    assert (at.selectbox(key="explore_metric").value, at.selectbox(key="explore_range").value) == (
        "new_posts",
        "custom",
    )
    assert at.segmented_control(key="explore_unit").value == "week" and at.toggle(key="explore_cumulative").value
    shown = at.dataframe[0].value
    assert shown["period_start"].iloc[0] == start.isoformat() and shown["period_end"].iloc[-1] == end.isoformat()
    assert "Running total" in screen_labels(at)
    assert {k: at.query_params[k] for k in url} == url
    # A choice made afterwards wins over the link, which follows it.
    at.selectbox(key="explore_metric").set_value("new_users").run()
    assert at.selectbox(key="explore_metric").value == "new_users" and at.query_params["metric"] == "new_users"


@pytest.mark.parametrize(
    "name, value",
    [
        ("metric", "drop table users"),
        ("range", "last_9999_days"),
        ("granularity", "fortnight"),
        ("cumulative", "maybe"),
        ("dates", "2026-13-01..2026-13-40"),
        ("dates", "2026-03-10..2026-03-01"),
        ("dates", "1999-01-01..2099-01-01"),
        ("metric", "<script>alert(1)</script>" * 20),
        ("metric", "`[click here](http://evil.test)` ![x](http://evil.test/x.png)\n# big"),
    ],
)
def test_an_unusable_link_value_falls_back_with_a_note(some_rows, name, value):
    url = {"range": "custom", name: value} if name == "dates" else {name: value}
    at = page(url=url)
    assert not at.exception and not at.error
    [note] = [i.value for i in at.info if "The link's" in i.value]
    assert f"`{name}=" in note and "cannot be used" in note and "instead" in note
    assert note.count("`") == 4 and "\n" not in note  # the link's text stays inside its code span
    assert at.dataframe[0].value is not None  # the page goes on with the default
    assert at.query_params[name] != value  # the URL now names the view shown


@pytest.mark.parametrize("zone", ["Australia/Lord_Howe", "Asia/Kathmandu"])
def test_a_links_time_zone_becomes_the_report_zone_even_off_the_sidebars_list(some_rows, zone):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["tz"] = zone
    at.run()
    assert not at.exception and at.sidebar.selectbox(key="report_tz").value == zone
    assert not at.sidebar.warning


def test_an_unknown_time_zone_in_a_link_is_named_in_the_sidebar(some_rows):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["tz"] = "Mars/Olympus`](http://evil.test)"
    at.run()
    assert not at.exception and at.sidebar.selectbox(key="report_tz").value == "UTC"
    [note] = [w.value for w in at.sidebar.warning]
    assert "is not known; showing UTC" in note and note.count("`") == 2
    assert at.query_params["tz"] == "UTC"  # the URL names the view shown
    at.run()  # a later run (a background refresh landing, a click) keeps the note
    assert [w.value for w in at.sidebar.warning] == [note] and not at.exception
    at.sidebar.selectbox(key="report_tz").set_value("Asia/Kolkata").run()
    assert not at.sidebar.warning  # until another zone is chosen
    assert at.query_params["tz"] == "Asia/Kolkata"


def test_a_links_time_zone_in_the_url_follows_the_sidebar_on_growth(some_rows):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["tz"] = "Asia/Kathmandu"
    at.run()
    assert at.sidebar.selectbox(key="report_tz").value == "Asia/Kathmandu" and not at.exception
    at.sidebar.selectbox(key="report_tz").set_value("Asia/Tokyo").run()
    assert at.query_params["tz"] == "Asia/Tokyo" and not at.sidebar.warning  # a reload opens Tokyo
    at.run()
    assert at.sidebar.selectbox(key="report_tz").value == "Asia/Tokyo"


def test_an_empty_time_zone_in_a_link_says_so(some_rows):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.query_params["tz"] = ""
    at.run()
    assert [w.value for w in at.sidebar.warning] == ["The link's time zone is empty; showing UTC."]


def test_a_link_sets_its_widgets_without_streamlits_default_and_state_warning(some_rows, monkeypatch):
    """A widget given both a default and a Session State value makes Streamlit log a
    warning with a stack trace in the server's terminal: the link's values and the
    widgets' first values come from one place (ui.view_params.adopt)."""
    from streamlit.elements.lib import policies

    warned = []
    monkeypatch.setattr(policies._LOGGER, "warning", lambda *a, **k: warned.append(a[0] if a else ""))
    for url in ({}, {"granularity": "week", "range": "custom", "dates": "2026-01-05..2026-02-01"}):
        at = page(url=url)
        assert not at.exception
    assert warned == []


def test_through_an_outage_explore_keeps_its_numbers_and_says_since_when(some_rows, tmp_path, monkeypatch):
    at = page()
    assert not at.exception
    table = at.dataframe[0].value.copy()
    assert "updated just now" in " ".join(c.value for c in at.caption)
    monkeypatch.setenv("CONNECTION_URL", f"postgresql://nobody@/cruddur?host={tmp_path}")  # nobody listens
    monkeypatch.setenv("POOL_TIMEOUT_MS", "300")
    monkeypatch.setenv("CACHE_TTL", "0")  # every read goes to the database, which is gone
    at.run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value.equals(table)  # the last good numbers, not an error
    [banner] = [w.value for w in at.warning if "Database unreachable since" in w.value]
    assert re.search(r"since \d\d:\d\d · showing numbers as of \d\d:\d\d", banner)
