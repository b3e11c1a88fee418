"""The Explore page (pages/explore.py) through Streamlit's AppTest, on a real database."""

import asyncio
import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import httpx
import pyarrow.parquet as pq
import pytest
from PIL import Image
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from exports import files
from tests.conftest import ROOT
from tests.helpers import Downloads, add_post, add_user

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


def page(tz="UTC", admin=True, **choices):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["report_tz"] = tz
    if admin:  # raw extracts hold personal data: signed-in admins only
        at.session_state["admin_user"] = "admin"
    for key, value in choices.items():
        at.session_state[f"explore_{key}"] = value
    return at.run()


def button(at, key_end):
    """A download button by the end of its key (table buttons end with their file name)."""
    [match] = [b for b in at.download_button if b.key.endswith(key_end)]
    return match


def test_csv_download_is_the_table_shown_byte_for_byte(some_rows, downloads):
    at = page(NY, metric="new_posts", range="last_90_days", unit="week", cumulative=True)
    assert not at.exception and not at.error
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["period_start", "period_end", "count", "cumulative", "partial"]
    stem = f"new_posts_by_week_{shown['period_start'].iloc[0]}_{shown['period_end'].iloc[-1]}_cumulative"
    data = downloads.bytes_of(button(at, f"{stem}.csv")).decode()
    first, rest = data.split("\n", 1)
    assert rest == shown.to_csv(index=False, lineterminator="\n")
    meta = files.parse_header_line(first)
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


def test_sidecar_choice_gives_a_plain_csv_and_a_json(some_rows, downloads):
    at = page(metric="new_users", range="all_time", unit="month")
    at.radio(key="provenance_style").set_value("sidecar").run()
    shown = at.dataframe[0].value
    [csv_name] = [b.key.removeprefix("explore-table-") for b in at.download_button if b.key.endswith(".csv")]
    assert downloads.bytes_of(button(at, csv_name)).decode() == shown.to_csv(index=False, lineterminator="\n")
    sidecar = downloads.bytes_of(button(at, files.sidecar_name(csv_name)))
    assert b'"rows": %d' % len(shown) in sidecar and b'"granularity": "month"' in sidecar
    assert b'"csv_formulas": "neutralised"' in sidecar


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
    counts = {m.label: m.value for m in at.metric}
    total = some_rows.execute("SELECT count(*) FROM activities").fetchone()[0]
    assert counts["Raw activities in the range"] == f"{total:,}"
    link = raw_link(at, "raw-activities-header")
    assert link.proto.label == "Download raw activities (CSV)" and link.proto.url.startswith("/export/raw?")
    assert not [b for b in at.download_button if "raw-" in b.key]  # nothing served from memory
    first, rest = follow(link).decode().split("\n", 1)
    assert len(list(csv.DictReader(io.StringIO(rest)))) == total == int(files.parse_header_line(first)["rows"])


def test_raw_extracts_are_for_admins_only(some_rows):
    at = page(range="all_time", admin=False)
    assert not [b for b in at.link_button if "raw-" in (b.key or "")]
    assert "sign in on the Admin page" in at.info[0].value
    assert at.metric  # the counts stay visible


def test_raw_extract_in_sidecar_style_is_a_zip(some_rows):
    at = page(range="all_time")
    at.radio(key="provenance_style").set_value("sidecar").run()
    link = raw_link(at, "raw-users-sidecar")
    assert "ZIP" in link.proto.label
    with zipfile.ZipFile(io.BytesIO(follow(link))) as zf:
        csv_name, json_name = zf.namelist()
        assert json_name == files.sidecar_name(csv_name)
        assert len(zf.read(csv_name).decode().strip().split("\n")) == 1 + 8


def test_a_configured_cap_is_announced_and_the_file_says_so(some_rows, monkeypatch):
    monkeypatch.setenv("RAW_EXPORT_MAX_ROWS", "10")
    at = page(range="all_time")
    warning = " ".join(w.value for w in at.warning)
    assert "stop at 10 rows (RAW_EXPORT_MAX_ROWS)" in warning and "python -m queries export raw activities" in warning
    link = raw_link(at, "raw-activities-header")
    meta = files.parse_header_line(follow(link).decode().split("\n", 1)[0])
    assert meta["truncated"] == "true" and meta["rows"] == "10" and meta["total_rows"] == "60"
    monkeypatch.setenv("RAW_EXPORT_MAX_ROWS", "3")  # lowered since: the server's cap wins
    assert files.parse_header_line(follow(link).decode().split("\n", 1)[0])["rows"] == "3"


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
