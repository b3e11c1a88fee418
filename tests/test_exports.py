"""Files an analyst can audit (queries/files.py) and their CLI twin (python -m queries export).

Long because it holds every file format, both provenance styles and the atomic-write
failure cases of one CLI; split by format it would repeat its fixtures.
"""

import errno
import io
import json
import time
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

from exports import charts, files, raw
from exports.columns import label
from exports.formats import BOM, FORMULA_STARTS, neutralise, to_csv
from queries.__main__ import main
from queries.explore import explore, resolve_range
from tests.helpers import add_post, add_user
from tests.spreadsheets import csv_rows, split_csv

NY = "America/New_York"


def now_utc():
    return datetime.now(UTC).replace(tzinfo=None)


@pytest.fixture
def posts(db):
    authors = [add_user(db, f"user{i}", now_utc() - timedelta(days=20 + i)) for i in range(3)]
    for i in range(25):
        add_post(db, authors[i % 3], now_utc() - timedelta(hours=11 * i))
    return db


def last_30(tz="UTC", cumulative=False, metric="new_posts", unit="week"):
    return explore(metric, rng=resolve_range("last_30_days", tz=tz), granularity=unit, tz=tz, cumulative=cumulative)


def labelled_csv(frame) -> str:
    """What a CSV file holds after its byte-order mark (and provenance line): the labels as headers."""
    return to_csv(frame.rename(columns=label))


def test_csv_is_the_table_under_one_provenance_line(posts):
    data = last_30(NY, cumulative=True)
    [file] = files.aggregate_files(
        data.frame, files.explore_provenance(data), fmt="csv", style="header", stem=data.file_stem
    )
    meta, rest = split_csv(file.data)
    assert rest == labelled_csv(data.frame)
    assert rest.startswith("Period start,Period end,Count,Running total,Partial\n")
    assert meta["tz"] == NY and meta["granularity"] == "week" and meta["rows"] == str(len(data.frame))
    assert meta["range"] == f"{data.range.start}..{data.range.end}" and meta["cumulative"] == "true"
    assert (
        meta["from_cache"] == "false" and meta["generated_at"].endswith("Z") and meta["dataset"] == "explore.new_posts"
    )
    assert meta["csv_formulas"] == "neutralised"
    assert file.name == f"{data.file_stem}.csv" and data.file_stem.endswith("_cumulative")


def test_sidecar_style_leaves_the_csv_untouched(posts):
    data = last_30()
    csv_file, sidecar = files.aggregate_files(
        data.frame, files.explore_provenance(data), fmt="csv", style="sidecar", stem="x"
    )
    assert csv_file.data.decode() == BOM + labelled_csv(data.frame)
    assert sidecar.name == "x.csv.provenance.json"
    meta = json.loads(sidecar.data)
    assert meta["rows"] == len(data.frame) and meta["tz"] == "UTC" and meta["from_cache"] is False
    assert meta["csv_formulas"] == "neutralised"


def test_parquet_has_the_same_rows_typed_and_its_provenance(posts):
    data = last_30(NY)
    [file] = files.aggregate_files(data.frame, files.explore_provenance(data), fmt="parquet", style="header", stem="x")
    table = pq.read_table(io.BytesIO(file.data))
    assert table.column_names == list(data.frame.columns)  # names for scripts, labels in field metadata
    assert table.schema.field("period_start").metadata == {b"label": b"Period start"}
    assert str(table.schema.field("period_start").type) == "date32[day]"
    assert table.to_pandas()["count"].tolist() == data.frame["count"].tolist()
    assert table.to_pandas()["period_start"].tolist() == data.frame["period_start"].tolist()
    meta = files.read_parquet_provenance(file.data)
    assert meta["rows"] == len(data.frame) and meta["tz"] == NY and meta["granularity"] == "week"
    assert "csv_formulas" not in meta  # typed values, kept exact


def test_header_values_cannot_break_the_line():
    p = files.Provenance(
        dataset="x",
        tz="UTC",
        range_start=date(2026, 1, 1),
        range_end=date(2026, 1, 2),
        granularity="day",
        rows=2,
        from_cache=True,
        computed_at=datetime.now(UTC),
        extra={"note": "a,b=c\nd"},
    )
    line = p.header_line()
    assert line.count("\n") == 1 and line.endswith("\n")
    assert files.parse_header_line(line)["note"] == "a,b=c\nd"


def test_png_is_a_real_image_of_the_chart(posts):
    data = last_30(unit="day")
    chart = charts.bucket_chart(data.frame, data.chart_title, "day")
    png = files.chart_image(chart, "png", scale=1)
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    assert 800 < width < 900 and 300 < height < 450  # an 800 x 300 plot plus title and axes
    colours = {rgb for _, rgb in image.getcolors(maxcolors=width * height)}
    bar = tuple(int(charts.BAR[i : i + 2], 16) for i in (1, 3, 5))
    partial = tuple(int(charts.PARTIAL[i : i + 2], 16) for i in (1, 3, 5))
    assert bar in colours and partial in colours  # full days and today's lighter bar are drawn
    big = Image.open(io.BytesIO(files.chart_image(chart, "png", scale=2)))
    assert big.size == (width * 2, height * 2)


def test_svg_is_the_chart(posts):
    data = last_30()
    svg = files.chart_image(charts.bucket_chart(data.frame, data.chart_title, "week"), "svg").decode()
    assert svg.startswith("<svg") and charts.BAR.lower() in svg.lower() and "New posts per week" in svg


# --- raw extracts ---------------------------------------------------------------


def raw_rows(data: bytes):
    """(provenance of the first line, rows by column name) of a CSV in `header` style."""
    meta, rows = csv_rows(data)
    assert meta is not None, "expected a provenance first line"
    return meta, rows


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
    result = raw.stream_raw("activities", out, tz="UTC", start_day=rng.start, end_day=rng.end, style="header")
    expected = db.execute("SELECT count(*) FROM activities WHERE created_at >= %s", (rng.start,)).fetchone()[0]
    meta, rows = raw_rows(out.getvalue())
    assert result.rows == len(rows) == expected == 42 and meta["rows"] == "42" and meta["truncated"] == "false"
    assert result.bytes == len(out.getvalue())
    assert [r["message"] for r in rows if r["message"] == tricky] == [tricky]
    assert {r["author_handle"] for r in rows} == {"andrewbrown", ""}
    assert [r["user_uuid"] for r in rows if not r["author_handle"]] == [orphan]
    assert list(rows[0])[-2:] == ["created_at_utc", "created_at_local"]
    assert split_csv(out.getvalue())[1].startswith(
        "UUID,User UUID,Author handle,Message,Replies,Reposts,Likes,Reply to (UUID),Expires at (UTC),"
        "Created at (UTC),Created at (local)\n"
    )
    assert [r["created_at_utc"] for r in rows] == sorted(r["created_at_utc"] for r in rows)


def test_raw_local_times_follow_the_report_zone(db):
    add_user(db, "tokyo", "2026-03-09 15:00:00")  # 00:00 on the 10th in Tokyo
    out = io.BytesIO()
    raw.stream_raw("users", out, tz="Asia/Tokyo", start_day=date(2026, 3, 10), end_day=date(2026, 3, 10))
    _, rows = csv_rows(out.getvalue())
    assert [(r["handle"], r["created_at_utc"], r["created_at_local"]) for r in rows] == [
        ("tokyo", "2026-03-09T15:00:00.000000Z", "2026-03-10T00:00:00.000000+09:00")
    ]


def test_a_cap_truncates_loudly_never_silently(db):
    u = add_user(db, "a")
    for i in range(10):
        add_post(db, u, now_utc() - timedelta(minutes=i))
    rng = resolve_range("last_7_days", tz="UTC")
    out = io.BytesIO()
    result = raw.stream_raw(
        "activities", out, tz="UTC", start_day=rng.start, end_day=rng.end, max_rows=4, style="header"
    )
    meta, rows = raw_rows(out.getvalue())
    assert result.truncated and len(rows) == 4 == result.rows and result.total_rows == 10
    assert meta["truncated"] == "true" and meta["total_rows"] == "10" and meta["rows"] == "4"
    assert meta["max_rows"] == "4 (RAW_EXPORT_MAX_ROWS)"


def test_sidecar_zip_streams_the_csv_and_its_provenance(db):
    add_user(db, "a")
    rng = resolve_range("last_7_days", tz="UTC")
    with raw.open_raw("users", tz="UTC", start_day=rng.start, end_day=rng.end) as extract:
        data = b"".join(extract.download("sidecar"))
    import zipfile

    name, mime = raw.raw_download_name("users", rng.start, rng.end, "sidecar")
    assert name.endswith(".zip") and mime == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        csv_name = raw.raw_file_name("users", rng.start, rng.end)
        assert zf.namelist() == [csv_name, files.sidecar_name(csv_name)]
        assert zf.read(csv_name).startswith(BOM.encode() + b"UUID,Display name,Handle,E-mail,")
        assert len(zf.read(csv_name).splitlines()) == 2
        assert json.loads(zf.read(files.sidecar_name(csv_name)))["rows"] == 1


def test_an_extract_streams_the_snapshot_it_counted_on_a_connection_of_its_own(db):
    u = add_user(db, "a")
    for i in range(5):
        add_post(db, u, now_utc() - timedelta(minutes=i))
    rng = resolve_range("last_7_days", tz="UTC")
    sessions = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cruddur-dashboard:export'"
    with raw.open_raw("activities", tz="UTC", start_day=rng.start, end_day=rng.end) as extract:
        assert extract.rows == 5 and db.execute(sessions).fetchone()[0] == 1
        for i in range(3):  # committed after the count, before the COPY
            add_post(db, u, now_utc() - timedelta(seconds=i))
        meta, rows = raw_rows(b"".join(extract.csv(header_line=True)))
    assert len(rows) == int(meta["rows"]) == 5
    deadline = time.monotonic() + 5  # the server ends a closed connection's backend a moment later
    while db.execute(sessions).fetchone()[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db.execute(sessions).fetchone()[0] == 0


# --- the CLI --------------------------------------------------------------------


def test_cli_writes_the_pages_csv_with_provenance(posts, tmp_path, capsys):
    out = tmp_path / "weekly.csv"
    assert (
        main(
            [
                "export",
                "explore",
                "--metric",
                "new_posts",
                "--granularity",
                "week",
                "--range",
                "last_30_days",
                "--tz",
                NY,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    data = last_30(NY)
    assert out.read_text(encoding="utf-8") == BOM + labelled_csv(data.frame)  # opens as it is in a spreadsheet
    sidecar = json.loads(out.with_name("weekly.csv.provenance.json").read_text())
    assert sidecar["tz"] == NY and sidecar["csv_formulas"] == "neutralised"
    capsys.readouterr()
    assert main(["export", "explore", "--range", "last_30_days", "--tz", NY, "-o", "-"]) == 0
    written = capsys.readouterr()
    assert written.out.startswith(BOM + "Period start,")
    [line] = [x for x in written.err.splitlines() if x.startswith("provenance: ")]
    assert json.loads(line.removeprefix("provenance: "))["tz"] == NY
    assert main(["export", "explore", "--range", "last_30_days", "-o", "-", "--provenance", "header"]) == 0
    assert split_csv(capsys.readouterr().out.encode())[0]["dataset"] == "explore.new_posts"


def test_cli_writes_xlsx(posts, tmp_path):
    import openpyxl

    out = tmp_path / "weekly.xlsx"
    assert (
        main(["export", "explore", "--granularity", "week", "--range", "last_30_days", "-f", "xlsx", "-o", str(out)])
        == 0
    )
    book = openpyxl.load_workbook(out)
    assert [c.value for c in book["Data"][1]] == ["Period start", "Period end", "Count", "Partial"]
    assert dict(book["Provenance"].iter_rows(max_col=2, values_only=True))["dataset"] == "explore.new_posts"


def test_cli_sidecar_parquet_and_png(posts, tmp_path):
    assert (
        main(
            [
                "export",
                "growth",
                "--table",
                "new_users_per_day",
                "--format",
                "parquet",
                "--provenance",
                "sidecar",
                "--out",
                str(tmp_path / "u.parquet"),
            ]
        )
        == 0
    )
    sidecar = json.loads((tmp_path / "u.parquet.provenance.json").read_text())
    assert sidecar["dataset"] == "new_users_per_day" and "csv_formulas" not in sidecar
    assert pq.read_table(tmp_path / "u.parquet").num_rows == 7
    assert main(["export", "explore", "--format", "png", "--out", str(tmp_path / "c.png")]) == 0
    assert Image.open(tmp_path / "c.png").format == "PNG"


def test_cli_raw_export_counts_every_row(posts, tmp_path, capsys):
    out = tmp_path / "acts.csv"
    assert (
        main(["export", "raw", "activities", "--range", "all_time", "--out", str(out), "--provenance", "header"]) == 0
    )
    meta, rows = raw_rows(out.read_bytes())
    assert len(rows) == int(meta["rows"]) == posts.execute("SELECT count(*) FROM activities").fetchone()[0]
    assert "25 activities rows" in capsys.readouterr().err


def test_cli_refuses_bad_input_plainly(db, capsys):
    assert main(["export", "raw", "users", "--range", "custom", "--start", "2026-03-02", "--end", "2026-03-01"]) == 2
    assert "after the end date" in capsys.readouterr().err
    assert main(["export", "explore", "--tz", "Mars/Olympus"]) == 2
    assert "Unknown time zone" in capsys.readouterr().err
    assert main(["export", "raw", "users", "--pseudonymise", "study"]) == 2
    assert "--pseudonymise needs EXPORT_SIGNING_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["xlsx", "parquet", "png"])
def test_cli_writes_no_binary_file_to_a_terminal(posts, capsys, monkeypatch, fmt):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["export", "explore", "-f", fmt, "-o", "-"]) == 2
    written = capsys.readouterr()
    assert written.out == "" and f"error: {fmt.upper()} is binary: redirect it" in written.err
    assert "Traceback" not in written.err


def test_cli_says_which_directory_it_cannot_write_in(db, tmp_path, capsys):
    missing = tmp_path / "missing"
    for argv in (["explore"], ["raw", "users"]):
        assert main(["export", *argv, "-o", str(missing / "x.csv")]) == 2
        [line] = capsys.readouterr().err.splitlines()
        says = f"error: cannot write a file in {missing}: no such directory; {missing / 'x.csv'} was not changed"
        assert line == says
    assert not missing.exists()


def test_cli_offers_raw_extracts_as_csv_only(db, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["export", "raw", "users", "-f", "xlsx"])
    assert exited.value.code == 2 and "invalid choice: 'xlsx' (choose from 'csv')" in capsys.readouterr().err


# --- spreadsheet-safe CSV (OWASP CSV injection) ------------------------------------

EVIL = '=HYPERLINK("http://evil","x")'


def add_user_with(conn, display_name, handle, email, cognito_user_id="TEST"):
    """A user whose every text column is chosen (tests.helpers.add_user derives the email)."""
    return conn.execute(
        "INSERT INTO users (display_name, handle, email, cognito_user_id, created_at) VALUES (%s, %s, %s, %s, %s) "
        "RETURNING uuid",
        (display_name, handle, email, cognito_user_id, now_utc() - timedelta(hours=1)),
    ).fetchone()[0]


@pytest.fixture
def evil(db):
    u = add_user_with(db, EVIL, "+cmd", "@SUM(1)", "-cognito")
    add_post(db, u, now_utc() - timedelta(minutes=2), message="-2+3")
    add_post(db, u, now_utc() - timedelta(minutes=1), message="\tstarts with a tab")
    return db


def test_cli_raw_exports_neutralise_formula_text_and_say_so(evil, tmp_path):
    users = tmp_path / "users.csv"
    assert main(["export", "raw", "users", "--range", "all_time", "-o", str(users), "--provenance", "header"]) == 0
    meta, [row] = raw_rows(users.read_bytes())
    assert (row["display_name"], row["handle"], row["email"], row["cognito_user_id"]) == (
        "'" + EVIL,
        "'+cmd",
        "'@SUM(1)",
        "'-cognito",
    )
    assert meta["csv_formulas"] == "neutralised"
    posts = tmp_path / "posts.csv"
    assert (
        main(["export", "raw", "activities", "--range", "all_time", "-o", str(posts), "--provenance", "sidecar"]) == 0
    )
    _, rows = csv_rows(posts.read_bytes())
    assert sorted(r["message"] for r in rows) == ["'\tstarts with a tab", "'-2+3"]
    assert {r["author_handle"] for r in rows} == {"'+cmd"}
    assert [r["likes_count"] for r in rows] == ["0", "0"]  # numbers as they are
    assert json.loads(posts.with_name("posts.csv.provenance.json").read_text())["csv_formulas"] == "neutralised"


def test_the_copy_sql_neutralises_exactly_as_python_does(db):
    samples = [c + "x" for c in FORMULA_STARTS] + ["x=1", " =1", "'=1", "", "#tag", "\u2212" + "1", "=", "-"]
    u = add_user_with(db, "Author", "author", "author@test.com")
    for text in samples:
        add_post(db, u, now_utc() - timedelta(minutes=1), message=text)
    rng = resolve_range("last_7_days", tz="UTC")
    out = io.BytesIO()
    raw.stream_raw("activities", out, tz="UTC", start_day=rng.start, end_day=rng.end)
    _, rows = csv_rows(out.getvalue())
    assert sorted(r["message"] for r in rows) == sorted(neutralise(t) for t in samples)


def test_parquet_keeps_exact_values_where_the_csv_neutralises():
    frame = pd.DataFrame({"handle": ["+cmd", EVIL, "plain"], "delta": [-2, 0, 3], "share": [-0.5, 0.0, 1.5]})
    provenance = files.Provenance(
        dataset="x",
        tz="UTC",
        range_start=date(2026, 1, 1),
        range_end=date(2026, 1, 3),
        granularity="day",
        rows=3,
        from_cache=False,
        computed_at=datetime.now(UTC),
    )
    [parquet, parquet_json] = files.aggregate_files(frame, provenance, fmt="parquet", style="sidecar", stem="x")
    back = pq.read_table(io.BytesIO(parquet.data)).to_pandas()
    assert back["handle"].tolist() == ["+cmd", EVIL, "plain"]
    assert back["delta"].tolist() == [-2, 0, 3] and back["share"].tolist() == [-0.5, 0.0, 1.5]
    assert "csv_formulas" not in files.read_parquet_provenance(parquet.data)
    assert "csv_formulas" not in json.loads(parquet_json.data)
    [csv_file] = files.aggregate_files(frame, provenance, fmt="csv", style="header", stem="x")
    meta, rows = raw_rows(csv_file.data)
    assert [r["handle"] for r in rows] == ["'+cmd", "'" + EVIL, "plain"]
    assert [r["delta"] for r in rows] == ["-2", "0", "3"] and [r["share"] for r in rows] == ["-0.5", "0.0", "1.5"]
    assert meta["csv_formulas"] == "neutralised"


# --- the CLI replaces a file only with a complete export ---------------------------


def old_files(*paths):
    """Yesterday's good files at `paths`, returned as they are."""
    for path in paths:
        path.write_bytes(b"# the good file of yesterday\n" + path.name.encode() + b"\n")
    return [path.read_bytes() for path in paths]


def parts_left(tmp_path):
    return [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize(
    "argv, says",
    [
        (["raw", "users", "--tz", "Mars/Olympus"], "Unknown time zone"),
        (["raw", "users", "--range", "custom", "--start", "2026-03-02", "--end", "2026-03-01"], "after the end date"),
        (["explore", "--tz", "Mars/Olympus"], "Unknown time zone"),
    ],
)
def test_a_refused_export_leaves_the_old_files(db, tmp_path, capsys, argv, says):
    out = tmp_path / "out.csv"
    before = old_files(out, tmp_path / "out.csv.provenance.json")
    assert main(["export", *argv, "-o", str(out), "--provenance", "sidecar"]) == 2
    err = capsys.readouterr().err
    assert says in err and err.endswith(f"; {out} was not changed\n") and err.count("\n") == 1
    assert [out.read_bytes(), (tmp_path / "out.csv.provenance.json").read_bytes()] == before
    assert parts_left(tmp_path) == []


BULK = 20_000  # posts of 1 kB: far more than the socket buffers hold, so COPY is still sending


@pytest.fixture
def many_posts(db):
    u = add_user(db, "bulk", now_utc() - timedelta(days=3))
    db.execute(
        "INSERT INTO activities (user_uuid, message, created_at) "
        "SELECT %s, repeat('m', 1000), %s - g * interval '1 second' FROM generate_series(1, %s) g",
        (u, now_utc(), BULK),
    )
    return db


def terminate_export(db):
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cruddur-dashboard:export'"
    )


def raise_(exc):
    raise exc


@pytest.mark.parametrize(
    "what, action, status, says",
    [
        ("statement timeout", lambda db: time.sleep(2), 1, "statement timeout"),
        ("connection killed", terminate_export, 1, "Cannot reach the database"),
        ("disk full", lambda db: raise_(OSError(errno.ENOSPC, "No space left on device")), 2, "No space left"),
        ("Ctrl-C", lambda db: raise_(KeyboardInterrupt()), 130, "interrupted"),
    ],
)
def test_a_failure_mid_copy_leaves_the_old_files(many_posts, tmp_path, capsys, monkeypatch, what, action, status, says):
    monkeypatch.setenv("RAW_EXPORT_TIMEOUT_MS", "1000")  # the count takes milliseconds; the COPY is held up for 2 s
    real_csv, seen = raw.RawExtract.csv, []

    def csv_going_wrong(self, **kwargs):  # COPY's pieces, and `action` once ten are written
        for i, piece in enumerate(real_csv(self, **kwargs)):
            yield piece
            if i == 10:
                seen.append(parts_left(tmp_path))
                action(many_posts)

    monkeypatch.setattr(raw.RawExtract, "csv", csv_going_wrong)
    out = tmp_path / "acts.csv"
    sidecar = tmp_path / "acts.csv.provenance.json"
    before = old_files(out, sidecar)
    assert (
        main(["export", "raw", "activities", "--range", "all_time", "-o", str(out), "--provenance", "sidecar"])
        == status
    )
    err = capsys.readouterr().err
    assert says in err and err.endswith(f"; {out} was not changed\n") and err.count("\n") == 1, err
    assert len(seen) == 1 and len(seen[0]) == 2  # the COPY had begun, into temporary files
    assert [out.read_bytes(), sidecar.read_bytes()] == before
    assert parts_left(tmp_path) == []


def test_a_complete_export_replaces_the_old_files(posts, tmp_path, capsys):
    out, sidecar = tmp_path / "acts.csv", tmp_path / "acts.csv.provenance.json"
    old_files(out, sidecar)
    out.chmod(0o640)
    assert main(["export", "raw", "activities", "--range", "all_time", "-o", str(out), "--provenance", "sidecar"]) == 0
    _, rows = csv_rows(out.read_bytes())
    assert len(rows) == json.loads(sidecar.read_text())["rows"] == 25
    assert out.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    weekly = tmp_path / "weekly.csv"
    old_files(weekly, tmp_path / "weekly.csv.provenance.json")
    assert (
        main(
            [
                "export",
                "explore",
                "--granularity",
                "week",
                "--range",
                "last_30_days",
                "-o",
                str(weekly),
                "--provenance",
                "sidecar",
            ]
        )
        == 0
    )
    assert weekly.read_text(encoding="utf-8") == BOM + labelled_csv(last_30().frame)
    assert json.loads((tmp_path / "weekly.csv.provenance.json").read_text())["dataset"] == "explore.new_posts"
    assert parts_left(tmp_path) == []


def test_a_sidecar_that_cannot_be_renamed_puts_the_data_file_back(posts, tmp_path, monkeypatch, capsys):
    """The data file and its sidecar are renamed one after the other: when the second
    rename fails, the first is undone, so the pair never comes from two exports."""
    import os

    target = tmp_path / "b.csv"
    target.write_text("ORIGINAL\n")
    (tmp_path / "b.csv.provenance.json").write_text("ORIGSIDE\n")
    real = os.replace
    calls = []

    def failing_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise PermissionError(1, "Operation not permitted")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing_second)
    assert main(["export", "explore", "--provenance", "sidecar", "-o", str(target)]) == 2
    monkeypatch.setattr(os, "replace", real)
    assert "b.csv was not changed" in capsys.readouterr().err
    assert target.read_text() == "ORIGINAL\n" and (tmp_path / "b.csv.provenance.json").read_text() == "ORIGSIDE\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv", "b.csv.provenance.json"]


def test_sigterm_mid_export_leaves_the_old_file_and_no_part(db, db_url, tmp_path):
    """cron and `timeout` stop a job with SIGTERM: it unwinds like Ctrl-C."""
    import os
    import signal
    import subprocess
    import sys

    from seed import generate
    from tests.conftest import _ISOLATED, ROOT

    with db.transaction():
        generate(db, users=2000, posts=400_000, days=30, seed=3)
    target = tmp_path / "a.csv"
    target.write_text("GOOD OLD FILE\n")
    env = {
        **{k: v for k, v in os.environ.items() if k not in _ISOLATED},
        "CONNECTION_URL": db_url,
        "DASHBOARD_SECRETS_FILE": str(tmp_path / "none.toml"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "queries", "export", "raw", "activities", "--range", "all_time", "-o", str(target)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not any(p.name.endswith(".part") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1]
    assert proc.returncode == 130 and "a.csv was not changed" in err and "Traceback" not in err, err
    assert target.read_text() == "GOOD OLD FILE\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".part", ".old"))]


def test_scripts_read_both_styles_with_pandas_and_map_labels_back_to_names(posts):
    from exports.columns import names_of

    data = last_30(NY, cumulative=True)
    provenance = files.explore_provenance(data)
    [plain, _] = files.aggregate_files(data.frame, provenance, fmt="csv", style="sidecar", stem="x")
    [headed] = files.aggregate_files(data.frame, provenance, fmt="csv", style="header", stem="x")
    for frame in (pd.read_csv(io.BytesIO(plain.data)), pd.read_csv(io.BytesIO(headed.data), skiprows=1)):
        assert list(frame.columns) == ["Period start", "Period end", "Count", "Running total", "Partial"]
        frame.columns = names_of(frame.columns)
        assert frame["count"].tolist() == data.frame["count"].tolist()
        assert frame["period_start"].tolist() == [d.isoformat() for d in data.frame["period_start"]]


def test_cli_pseudonymises_with_the_servers_key(posts, tmp_path, monkeypatch):
    from exports.pseudonyms import pseudonyms_for

    secret = "cli-test-signing-key-" + "y" * 24
    monkeypatch.setenv("EXPORT_SIGNING_KEY", secret)
    out = tmp_path / "users.csv"
    assert main(["export", "raw", "users", "--range", "all_time", "--pseudonymise", "study", "-o", str(out)]) == 0
    _, rows = csv_rows(out.read_bytes())
    emails = [r[0] for r in posts.execute("SELECT email FROM users ORDER BY created_at, uuid")]
    assert b"@" not in out.read_bytes() and [r["email"] for r in rows] == [
        pseudonyms_for(secret, "study").of(e) for e in emails
    ]
    about = json.loads((tmp_path / "users.csv.provenance.json").read_text())
    assert about["personal_data"] == "pseudonymised" and about["pseudonym_key"] == "study"


def test_cli_pseudonymises_only_under_a_key_the_server_would_accept(posts, tmp_path, monkeypatch, capsys):
    # The page refuses an EXPORT_SIGNING_KEY under 32 characters; so does the command line.
    monkeypatch.setenv("EXPORT_SIGNING_KEY", "short")
    out = tmp_path / "users.csv"
    assert main(["export", "raw", "users", "--pseudonymise", "study", "-o", str(out)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "EXPORT_SIGNING_KEY must be at least 32 characters" in line and not out.exists()


def test_start_and_end_with_a_preset_range_are_refused_not_ignored(db, tmp_path, capsys):
    out = tmp_path / "e.csv"
    code = main(["export", "explore", "--range", "last_7_days", "--start", "2026-03-01", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "--start needs --range custom (the range is last_7_days)" in err
    assert not out.exists()
    code = main(["export", "raw", "users", "--range", "all_time", "--start", "2026-03-01", "--end", "2026-03-02"])
    assert code == 2 and "--start and --end need --range custom" in capsys.readouterr().err


def test_a_directory_as_the_output_is_one_plain_line(db, tmp_path, capsys):
    assert main(["export", "explore", "--range", "last_7_days", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: Is a directory" in err and "Errno" not in err
