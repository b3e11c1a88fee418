"""Files an analyst can audit (queries/exports.py) and their CLI twin (python -m queries export)."""
import csv
import io
import json
from datetime import date, datetime, timedelta, timezone

import pyarrow.parquet as pq
import pytest
from PIL import Image

from queries import exports
from queries.__main__ import main
from queries.explore import explore, resolve_range
from queries.formats import to_csv
from tests.helpers import add_post, add_user
from ui import charts

NY = "America/New_York"


def now_utc():
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def posts(db):
    authors = [add_user(db, f"user{i}", now_utc() - timedelta(days=20 + i)) for i in range(3)]
    for i in range(25):
        add_post(db, authors[i % 3], now_utc() - timedelta(hours=11 * i))
    return db


def last_30(tz="UTC", cumulative=False, metric="new_posts", unit="week"):
    return explore(metric, rng=resolve_range("last_30_days", tz=tz), granularity=unit, tz=tz, cumulative=cumulative)


def test_csv_is_the_table_under_one_provenance_line(posts):
    data = last_30(NY, cumulative=True)
    [file] = exports.aggregate_files(data.frame, data.provenance(), fmt="csv", style="header", stem=data.file_stem)
    first, rest = file.data.decode().split("\n", 1)
    assert rest == to_csv(data.frame)
    meta = exports.parse_header_line(first)
    assert meta["tz"] == NY and meta["granularity"] == "week" and meta["rows"] == str(len(data.frame))
    assert meta["range"] == f"{data.range.start}..{data.range.end}" and meta["cumulative"] == "true"
    assert meta["from_cache"] == "false" and meta["generated_at"].endswith("Z") and meta["dataset"] == "explore.new_posts"
    assert file.name == f"{data.file_stem}.csv" and data.file_stem.endswith("_cumulative")


def test_sidecar_style_leaves_the_csv_untouched(posts):
    data = last_30()
    csv_file, sidecar = exports.aggregate_files(data.frame, data.provenance(), fmt="csv", style="sidecar", stem="x")
    assert csv_file.data.decode() == to_csv(data.frame)
    assert sidecar.name == "x.csv.provenance.json"
    meta = json.loads(sidecar.data)
    assert meta["rows"] == len(data.frame) and meta["tz"] == "UTC" and meta["from_cache"] is False


def test_parquet_has_the_same_rows_typed_and_its_provenance(posts):
    data = last_30(NY)
    [file] = exports.aggregate_files(data.frame, data.provenance(), fmt="parquet", style="header", stem="x")
    table = pq.read_table(io.BytesIO(file.data))
    assert table.column_names == list(data.frame.columns)
    assert str(table.schema.field("period_start").type) == "date32[day]"
    assert table.to_pandas()["count"].tolist() == data.frame["count"].tolist()
    assert table.to_pandas()["period_start"].tolist() == data.frame["period_start"].tolist()
    meta = exports.read_parquet_provenance(file.data)
    assert meta["rows"] == len(data.frame) and meta["tz"] == NY and meta["granularity"] == "week"


def test_header_values_cannot_break_the_line():
    p = exports.Provenance(dataset="x", tz="UTC", range_start=date(2026, 1, 1), range_end=date(2026, 1, 2),
                           granularity="day", rows=2, from_cache=True, computed_at=datetime.now(timezone.utc),
                           extra={"note": "a,b=c\nd"})
    line = p.header_line()
    assert line.count("\n") == 1 and line.endswith("\n")
    assert exports.parse_header_line(line)["note"] == "a,b=c\nd"


def test_png_is_a_real_image_of_the_chart(posts):
    data = last_30(unit="day")
    chart = charts.bucket_chart(data.frame, data.chart_title, "day")
    png = exports.chart_image(chart, "png", scale=1)
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    assert 800 < width < 900 and 300 < height < 450  # an 800 x 300 plot plus title and axes
    colours = {rgb for _, rgb in image.getcolors(maxcolors=width * height)}
    bar = tuple(int(charts.BAR[i:i + 2], 16) for i in (1, 3, 5))
    partial = tuple(int(charts.PARTIAL[i:i + 2], 16) for i in (1, 3, 5))
    assert bar in colours and partial in colours  # full days and today's lighter bar are drawn
    big = Image.open(io.BytesIO(exports.chart_image(chart, "png", scale=2)))
    assert big.size == (width * 2, height * 2)


def test_svg_is_the_chart(posts):
    data = last_30()
    svg = exports.chart_image(charts.bucket_chart(data.frame, data.chart_title, "week"), "svg").decode()
    assert svg.startswith("<svg") and charts.BAR.lower() in svg.lower() and "New posts per week" in svg


# --- raw extracts ---------------------------------------------------------------

def raw_rows(data: bytes):
    first, rest = data.decode().split("\n", 1)
    return exports.parse_header_line(first), list(csv.DictReader(io.StringIO(rest)))


def test_raw_activities_stream_every_row_with_the_author_handle(db):
    u = add_user(db, "andrewbrown")
    tricky = 'Hot take: "quotes", commas,\nnewlines and #hashtags 🚀'
    add_post(db, u, now_utc() - timedelta(minutes=3), message=tricky)
    for i in range(40):
        add_post(db, u, now_utc() - timedelta(hours=i))
    add_post(db, add_user(db, "old", "2001-01-01"), "2001-01-02 00:00:00")  # outside the range
    orphan = "00000000-0000-4000-8000-000000000000"
    add_post(db, orphan, now_utc() - timedelta(minutes=1))
    rng = resolve_range("last_7_days", tz="UTC")
    out = io.BytesIO()
    result = exports.stream_raw("activities", out, tz="UTC", start_day=rng.start, end_day=rng.end)
    expected = db.execute("SELECT count(*) FROM activities WHERE created_at >= %s", (rng.start,)).fetchone()[0]
    meta, rows = raw_rows(out.getvalue())
    assert result.rows == len(rows) == expected == 42 and meta["rows"] == "42" and meta["truncated"] == "false"
    assert result.bytes == len(out.getvalue())
    assert [r["message"] for r in rows if r["message"] == tricky] == [tricky]
    assert {r["author_handle"] for r in rows} == {"andrewbrown", ""}
    assert [r["user_uuid"] for r in rows if not r["author_handle"]] == [orphan]
    assert list(rows[0])[-2:] == ["created_at_utc", "created_at_local"]
    assert [r["created_at_utc"] for r in rows] == sorted(r["created_at_utc"] for r in rows)


def test_raw_local_times_follow_the_report_zone(db):
    add_user(db, "tokyo", "2026-03-09 15:00:00")  # 00:00 on the 10th in Tokyo
    out = io.BytesIO()
    exports.stream_raw("users", out, tz="Asia/Tokyo", start_day=date(2026, 3, 10), end_day=date(2026, 3, 10))
    _, rows = raw_rows(out.getvalue())
    assert [(r["handle"], r["created_at_utc"], r["created_at_local"]) for r in rows] == [
        ("tokyo", "2026-03-09 15:00:00", "2026-03-10 00:00:00")]


def test_a_cap_truncates_loudly_never_silently(db):
    u = add_user(db, "a")
    for i in range(10):
        add_post(db, u, now_utc() - timedelta(minutes=i))
    rng = resolve_range("last_7_days", tz="UTC")
    out = io.BytesIO()
    result = exports.stream_raw("activities", out, tz="UTC", start_day=rng.start, end_day=rng.end, max_rows=4)
    meta, rows = raw_rows(out.getvalue())
    assert result.truncated and len(rows) == 4 == result.rows and result.total_rows == 10
    assert meta["truncated"] == "true" and meta["total_rows"] == "10" and meta["rows"] == "4"
    assert meta["max_rows"] == "4 (RAW_EXPORT_MAX_ROWS)"


def test_sidecar_zip_streams_the_csv_and_its_provenance(db):
    add_user(db, "a")
    rng = resolve_range("last_7_days", tz="UTC")
    with exports.open_raw("users", tz="UTC", start_day=rng.start, end_day=rng.end) as extract:
        data = b"".join(extract.download("sidecar"))
    import zipfile

    name, mime = exports.raw_download_name("users", rng.start, rng.end, "sidecar")
    assert name.endswith(".zip") and mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        csv_name = exports.raw_file_name("users", rng.start, rng.end)
        assert zf.namelist() == [csv_name, exports.sidecar_name(csv_name)]
        assert zf.read(csv_name).startswith(b"uuid,") and len(zf.read(csv_name).splitlines()) == 2
        assert json.loads(zf.read(exports.sidecar_name(csv_name)))["rows"] == 1


def test_an_extract_streams_the_snapshot_it_counted_on_a_connection_of_its_own(db):
    u = add_user(db, "a")
    for i in range(5):
        add_post(db, u, now_utc() - timedelta(minutes=i))
    rng = resolve_range("last_7_days", tz="UTC")
    sessions = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cruddur-dashboard:export'"
    with exports.open_raw("activities", tz="UTC", start_day=rng.start, end_day=rng.end) as extract:
        assert extract.rows == 5 and db.execute(sessions).fetchone()[0] == 1
        for i in range(3):  # committed after the count, before the COPY
            add_post(db, u, now_utc() - timedelta(seconds=i))
        meta, rows = raw_rows(b"".join(extract.csv()))
    assert len(rows) == int(meta["rows"]) == 5
    assert db.execute(sessions).fetchone()[0] == 0


# --- the CLI --------------------------------------------------------------------

def test_cli_writes_the_pages_csv_with_provenance(posts, tmp_path, capsys):
    out = tmp_path / "weekly.csv"
    assert main(["export", "explore", "--metric", "new_posts", "--granularity", "week", "--range", "last_30_days",
                 "--tz", NY, "--out", str(out)]) == 0
    data = last_30(NY)
    first, rest = out.read_text().split("\n", 1)
    assert rest == to_csv(data.frame)
    assert exports.parse_header_line(first)["tz"] == NY


def test_cli_sidecar_parquet_and_png(posts, tmp_path):
    assert main(["export", "growth", "--table", "new_users_per_day", "--format", "parquet", "--provenance", "sidecar",
                 "--out", str(tmp_path / "u.parquet")]) == 0
    assert json.loads((tmp_path / "u.parquet.provenance.json").read_text())["dataset"] == "new_users_per_day"
    assert pq.read_table(tmp_path / "u.parquet").num_rows == 7
    assert main(["export", "explore", "--format", "png", "--out", str(tmp_path / "c.png")]) == 0
    assert Image.open(tmp_path / "c.png").format == "PNG"


def test_cli_raw_export_counts_every_row(posts, tmp_path, capsys):
    out = tmp_path / "acts.csv"
    assert main(["export", "raw", "activities", "--range", "all_time", "--out", str(out)]) == 0
    meta, rows = raw_rows(out.read_bytes())
    assert len(rows) == int(meta["rows"]) == posts.execute("SELECT count(*) FROM activities").fetchone()[0]
    assert "25 activities rows" in capsys.readouterr().err


def test_cli_refuses_bad_input_plainly(db, capsys):
    assert main(["export", "raw", "users", "--range", "custom", "--start", "2026-03-02", "--end", "2026-03-01"]) == 2
    assert "after the end date" in capsys.readouterr().err
    assert main(["export", "explore", "--tz", "Mars/Olympus"]) == 2
    assert "Unknown time zone" in capsys.readouterr().err
    assert main(["export", "explore", "--out", "-", "--provenance", "sidecar"]) == 2
    assert "needs --out FILE" in capsys.readouterr().err
