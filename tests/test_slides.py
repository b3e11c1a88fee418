"""Slide-ready pictures (exports/slides.py, ui/slides.py) and the chart axes' rules
(exports/charts.py): made from the page's own numbers, text kept as text."""

import io
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from exports import charts, slides
from tests.conftest import ROOT
from tests.helpers import Downloads, add_post, add_user, tables_open
from tests.pdf_text import pdf_text

PAGE = str(ROOT / "pages" / "growth.py")


@pytest.fixture
def some_rows(db):
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = [add_user(db, f"user{i}", now - timedelta(days=i * 2)) for i in range(8)]
    for i in range(50):
        add_post(db, ids[i % 8], now - timedelta(hours=i * 4))
    return db


def page_with_downloads(monkeypatch):
    downloads = Downloads(monkeypatch)
    at = tables_open(AppTest.from_file(PAGE, default_timeout=60)).run()
    assert not at.exception and not at.error
    return at, {b.key: b for b in at.download_button}, downloads


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_snapshot_is_the_page_in_one_png_and_one_pdf(some_rows, monkeypatch):
    at, buttons, downloads = page_with_downloads(monkeypatch)
    png = downloads.bytes_of(buttons["snapshot-png"])
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert 1800 <= width <= 2100 and 1.5 <= width / height <= 2.0, image.size  # a 16:9-ish slide at 1.5x

    pdf = downloads.bytes_of(buttons["snapshot-pdf"])
    assert pdf.startswith(b"%PDF-")
    text = squeeze(pdf_text(pdf))
    assert len(at.metric) == 4
    for metric in at.metric:  # every card, with the very value and delta the page shows
        assert squeeze(metric.label) in text
        assert squeeze(metric.value) in text
        if metric.delta:
            assert squeeze(metric.delta) in text
    for title in ("Cruddur growth", "New users per day", "New posts per day", "Source:"):
        assert squeeze(title) in text
    freshness = at.caption[0].value  # "As of 09:20 UTC, Fri 27 Nov · updated just now"
    assert squeeze(freshness.split(" · ")[0]) in text
    page_posts = at.dataframe[1].value.iloc[:, 1].tolist()  # the bars carry the table's counts
    assert all(str(n) in text for n in page_posts)


def test_a_chart_slide_carries_title_range_zone_as_of_and_source(some_rows, monkeypatch):
    at, buttons, downloads = page_with_downloads(monkeypatch)
    svg = downloads.bytes_of(buttons["chart-posts-svg"]).decode()
    texts = re.sub(r"<[^>]+>", "", svg)
    days = at.dataframe[1].value.iloc[:, 0]
    first, last = date.fromisoformat(str(days.iloc[0])[:10]), date.fromisoformat(str(days.iloc[-1])[:10])
    assert "New posts per day" in texts and "days in UTC" in texts
    # The test database is a development one, and no messaging is connected: the footer says so.
    assert "Source: Cruddur development database (users, activities)" in texts and "DynamoDB" not in texts
    assert f"{first:%a} {first.day} {first:%b}" in texts and f"{last.day} {last:%b %Y}" in texts
    assert re.search(r"As of \d\d:\d\d UTC", texts)
    png = Image.open(io.BytesIO(downloads.bytes_of(buttons["chart-posts-png"])))
    assert 1800 <= png.size[0] <= 2000 and 1000 <= png.size[1] <= 1150, png.size  # 1280 x 720 at 1.5x


def test_count_axes_never_print_0k_and_show_whole_numbers():
    days = [date(2026, 11, 21) + timedelta(days=i) for i in range(7)]
    for counts in ([0, 1, 2, 0, 1, 0, 1], [0, 150_000, 90_000, 10, 0, 5, 120_000]):
        frame = pd.DataFrame({"day": days, "count": counts, "partial": [False] * 6 + [True]})
        svg = slides.render({**charts.per_day_bars(frame, "t"), "width": 600}, "svg").decode()
        labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
        assert "0k" not in labels and "0.5" not in labels and "0" in labels, labels


def test_weekly_labels_read_like_dates_and_the_last_one_is_always_shown():
    assert charts.period_label(date(2026, 9, 7), "week", False) == "7 Sep"
    assert charts.period_label(date(2026, 9, 7), "week", False, years=True) == "7 Sep '26"
    assert charts.period_label(date(2026, 9, 7), "day", True) == "Mon 7 Sep|partial"
    labels = [f"l{i}" for i in range(53)]
    shown = charts.labelled(labels)
    assert shown[-1] == "l52" and len(shown) <= charts.MAX_X_LABELS
    assert charts.labelled(labels[:7]) == labels[:7]


def _pdf_has_every_card(at, pdf: bytes) -> str:
    text = squeeze(pdf_text(pdf))
    for metric in at.metric:
        assert squeeze(metric.label) in text and squeeze(metric.value) in text
        if metric.delta:
            assert squeeze(metric.delta) in text
    return text


def test_the_snapshot_matches_the_page_in_kathmandu_with_messages(some_rows, monkeypatch):
    from tests.helpers import add_message

    now = datetime.now(UTC).replace(tzinfo=None)
    for i in range(30):  # around Kathmandu's midnights (UTC+05:45) too
        add_message(some_rows, now - timedelta(hours=i * 5, minutes=45))
    monkeypatch.setenv("REPORT_TZ", "Asia/Kathmandu")
    at, buttons, downloads = page_with_downloads(monkeypatch)
    assert "Messages, last 7 days" in [m.label for m in at.metric]
    text = _pdf_has_every_card(at, downloads.bytes_of(buttons["snapshot-pdf"]))
    assert squeeze(at.caption[0].value.split(" · ")[0]) in text and "Asia/Kathmandu" in text
    assert squeeze("messages from DynamoDB") in text
    posts = at.dataframe[1].value.iloc[:, 1].tolist()
    assert all(str(n) in text for n in posts)
    assert Image.open(io.BytesIO(downloads.bytes_of(buttons["snapshot-png"]))).format == "PNG"


def test_the_snapshot_of_an_empty_database(db, monkeypatch):
    at, buttons, downloads = page_with_downloads(monkeypatch)
    assert [m.value for m in at.metric] == ["0", "0", "0", "0"]
    _pdf_has_every_card(at, downloads.bytes_of(buttons["snapshot-pdf"]))
    assert Image.open(io.BytesIO(downloads.bytes_of(buttons["snapshot-png"]))).format == "PNG"
    svg = downloads.bytes_of(buttons["chart-users-svg"]).decode()
    assert "New users per day" in re.sub(r"<[^>]+>", "", svg)
