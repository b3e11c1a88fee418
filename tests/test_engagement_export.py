"""`python -m queries export engagement ...`: the Engagement page's tables as files."""

import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from exports import files
from exports.columns import names_of
from queries import engagement
from queries.__main__ import main
from queries.explore import resolve_range
from tests.helpers import add_post, add_user


@pytest.fixture
def some_rows(db):
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = [add_user(db, f"user{i}", now - timedelta(days=i * 11, hours=3)) for i in range(9)]
    for i in range(150):
        add_post(db, ids[i % 6], now - timedelta(hours=i * 13))
    return db


def read_csv(path) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8-sig")
    if text.startswith("# "):
        text = text.partition("\n")[2]
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    return frame.set_axis(names_of(frame.columns), axis=1)


@pytest.mark.parametrize("name", list(engagement.TABLES))
def test_each_table_exports_the_pages_rows(some_rows, tmp_path, name):
    out = tmp_path / f"{name}.csv"
    argv = ["export", "engagement", "--table", name, "--granularity", "week", "--range", "last_90_days"]
    assert main([*argv, "--tz", "Asia/Kathmandu", "-o", str(out)]) == 0
    rng = resolve_range("last_90_days", tz="Asia/Kathmandu")
    want = engagement.table(name, rng=rng, granularity="week", tz="Asia/Kathmandu").frame
    got = read_csv(out)
    assert list(got.columns) == list(want.columns)
    assert [["" if pd.isna(v) else str(v).lower() for v in r] for r in want.itertuples(index=False)] == [
        [v.lower() for v in r] for r in got.itertuples(index=False)
    ]
    sidecar = tmp_path / files.sidecar_name(out.name)
    if sidecar.exists():  # the default provenance style: a sidecar JSON
        meta = json.loads(sidecar.read_text())
        assert meta["dataset"] == f"engagement.{name}" and meta["tz"] == "Asia/Kathmandu"
        assert meta["granularity"] == "week" and meta["rows"] == len(want)


def test_parquet_and_png(some_rows, tmp_path):
    base = ["export", "engagement", "--table", "lifecycle", "--granularity", "month", "--range", "all_time"]
    assert main([*base, "-f", "parquet", "-o", str(tmp_path / "l.parquet")]) == 0
    table = pq.read_table(tmp_path / "l.parquet")
    assert table.column_names == engagement.COLUMNS["lifecycle"]
    assert json.loads(table.schema.metadata[files.PARQUET_KEY])["dataset"] == "engagement.lifecycle"
    assert main([*base, "-f", "png", "-o", str(tmp_path / "l.png")]) == 0
    assert (tmp_path / "l.png").read_bytes().startswith(b"\x89PNG")


def test_a_refused_export_leaves_the_file_as_it_was(some_rows, tmp_path, capsys):
    out = tmp_path / "kept.csv"
    out.write_text("old")
    argv = ["export", "engagement", "--table", "retention", "--granularity", "day", "--range", "custom"]
    status = main([*argv, "--start", "2020-01-01", "--end", str(date.today() - timedelta(days=1)), "-o", str(out)])
    assert status == 2 and out.read_text() == "old"
    err = capsys.readouterr().err
    assert "more than 120" in err and "was not changed" in err and "Traceback" not in err


def _svg_text(spec: dict) -> list[str]:
    from exports import slides

    svg = slides.render({**spec, "width": 900}, "svg").decode()
    return re.findall(r"<(?:text|tspan)[^>]*>([^<]+)</(?:text|tspan)>", svg)


def test_charts_follow_the_growth_axis_rules():
    """As on Growth: counts never read '0k', days and weeks read '7 Sep', at most a
    dozen x labels with the latest (partial) one always among them."""
    from exports import charts
    from exports.engagement import active_chart, lifecycle_chart

    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(90)]
    active = pd.DataFrame(
        {
            "period_start": days,
            "period_end": days,
            "active_users": [0 if i % 9 == 0 else 150_000 + i for i in range(90)],
            "partial": [False] * 89 + [True],
            "wau": [300_000] * 90,
            "mau": [900_000] * 90,
        }
    )
    text = _svg_text(active_chart(active, "t", "day"))
    assert "0" in text and "900k" in text and "0k" not in text
    dates = [t for t in text if re.fullmatch(r"[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2}", t)]
    assert dates[-1] == "Sat 29 Aug" and "partial" in text and 6 <= len(dates) <= charts.MAX_X_LABELS, text

    weeks = [date(2025, 12, 1) + timedelta(weeks=i) for i in range(12)]
    lifecycle = pd.DataFrame(
        {
            "period_start": weeks,
            "period_end": [w + timedelta(days=6) for w in weeks],
            "new": [3] * 12,
            "retained": [2] * 12,
            "resurrected": [1] * 12,
            "churned": [4] * 12,
            "partial": [False] * 11 + [True],
        }
    )
    text = _svg_text(lifecycle_chart(lifecycle, "t", "week"))
    assert "1 Dec '25" in text and "16 Feb '26" in text and "0.5" not in text
    assert "−4" in text and "6" in text  # churned drawn below zero, whole numbers only
