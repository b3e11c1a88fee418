"""Files an analyst opens without fixing them first: the product's CSV and XLSX
opened by a real spreadsheet program (LibreOffice Calc, converting headless) and
read back with openpyxl; local times unambiguous across DST changes; pseudonymised
extracts.

LibreOffice is Debian's `libreoffice-calc` (.ci/run installs it); without `soffice`
the round-trip tests skip and say so.

Long because the acceptance of one issue is here, on one set of fixtures: CSV and
XLSX through Calc, XLSX types, offsets across three DST changes, pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pandas as pd
import pytest

from exports import files, raw
from exports.columns import RAW_COLUMNS, label, labels
from exports.formats import BOM, presentable
from exports.pseudonyms import pseudonyms_for
from queries.explore import explore, resolve_range
from tests.helpers import add_post, add_user
from tests.spreadsheets import csv_headers, csv_rows, split_csv

NY, LORD_HOWE = "America/New_York", "Australia/Lord_Howe"
EVIL = '=HYPERLINK("http://evil","x")'
MESSAGES = [
    "Ünïcödé façade, 東京 and Ελληνικά",
    "launch 🚀🎉 today",
    "#hashtag first, then # in the middle",
    EVIL,
    "-2+3",
]


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        pytest.skip(
            "LibreOffice round trip skipped: soffice not found (apt-get install libreoffice-calc; .ci/run does)"
        )
    return path


def through_calc(data: bytes, name: str, tmp_path, *, data_only: bool = True) -> openpyxl.Workbook:
    """`data` opened by LibreOffice Calc and saved as XLSX, read back with openpyxl
    (values as Calc computed them; `data_only=False`: formulas as formulas, and
    Calc writes a boolean as the formula `=TRUE()`).
    A CSV is read with the options a person accepts in Calc's import dialog:
    comma, double quotes, character set detected, from line 1 (headless Calc uses
    the system's 8-bit character set unless it is told to detect)."""
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / "calc"
    command = [
        soffice(),
        f"-env:UserInstallation=file://{tmp_path}/lo-profile",  # a profile of its own: runs in parallel
        "--headless",
        "--norestore",
        *(["--infilter=CSV:44,34,,1"] if name.endswith(".csv") else []),
        "--convert-to",
        "xlsx:Calc MS Excel 2007 XML",
        "--outdir",
        str(out),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    converted = out / (source.stem + ".xlsx")
    assert converted.exists(), done.stdout + done.stderr
    return openpyxl.load_workbook(converted, data_only=data_only)


def rows_of(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def provenance_sheet(wb) -> dict:
    """The key/value rows of the Provenance sheet, up to the blank row before the column list."""
    about = {}
    for key, value, *_ in wb["Provenance"].iter_rows(values_only=True):
        if key is None:
            break
        about[key] = value
    return about


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def dst_posts(db):
    """Posts every 10 minutes across New York's fall-back (2026-11-01: 01:00-02:00
    happens twice) whose messages hold non-ASCII text, emoji, `#` and formula-like text."""
    author = add_user(db, "zoë_ümlaut", "2026-10-01 12:00:00", display_name="Zoë 🚀 =SUM(A1)")
    first = datetime(2026, 11, 1, 4, 0)  # 00:00 EDT
    for i in range(24):  # to 02:50 EST
        add_post(db, author, first + timedelta(minutes=10 * i), message=MESSAGES[i % len(MESSAGES)])
    return db


def extract(kind: str, tz: str, start: date, end: date, **kwargs) -> bytes:
    out = io.BytesIO()
    raw.stream_raw(kind, out, tz=tz, start_day=start, end_day=end, **kwargs)
    return out.getvalue()


# --- LibreOffice round trips -------------------------------------------------------------


def test_a_raw_csv_opens_in_calc_with_its_columns_text_and_unambiguous_times(dst_posts, tmp_path):
    data = extract("activities", NY, date(2026, 11, 1), date(2026, 11, 1))
    assert data.startswith(BOM.encode()) and b"# dataset" not in data  # no first line to delete
    _, rows = csv_rows(data)
    sheet = through_calc(data, "posts.csv", tmp_path, data_only=False).active
    cells = rows_of(sheet)
    assert cells[0] == labels(RAW_COLUMNS["activities"])  # headers as the product names them, no stray BOM
    assert len(cells) == 1 + len(rows) == 1 + 24
    by_name = [dict(zip(RAW_COLUMNS["activities"], row, strict=True)) for row in cells[1:]]
    # Text intact: non-ASCII, emoji, `#`, embedded commas; formula-like text stays text.
    assert sorted({r["message"] for r in by_name}) == sorted({"'" + m if m[0] in "=-" else m for m in MESSAGES})
    formula_cells = [c for row in sheet.iter_rows(min_row=2) for c in row if str(c.value).startswith("'")]
    assert formula_cells and all(c.data_type == "s" for c in formula_cells)
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]  # Calc made no formula
    # The six posts 01:00-01:50 EDT and the six 01:00-01:50 EST read differently.
    one_am = [r["created_at_local"] for r in by_name if str(r["created_at_local"])[11:13] == "01"]
    assert len(one_am) == 12 and len(set(one_am)) == 12
    assert sum(s.endswith("-04:00") for s in one_am) == 6 and sum(s.endswith("-05:00") for s in one_am) == 6
    for r in by_name:
        assert utc(r["created_at_local"]) == utc(r["created_at_utc"])  # the same instant


def test_a_table_csv_opens_in_calc_with_dates_numbers_and_the_screens_headers(dst_posts, tmp_path):
    rng = resolve_range("custom", tz=NY, start=date(2026, 10, 31), end=date(2026, 11, 2))
    data = explore("new_posts", rng=rng, granularity="day", tz=NY)
    [csv_file, _] = files.aggregate_files(
        data.frame, files.explore_provenance(data), fmt="csv", style="sidecar", stem="t"
    )
    cells = rows_of(through_calc(csv_file.data, "t.csv", tmp_path).active)
    assert cells[0] == ["Period start", "Period end", "Count", "Partial"] == labels(data.frame.columns)
    assert [row[0] for row in cells[1:]] == [datetime(2026, 10, 31), datetime(2026, 11, 1), datetime(2026, 11, 2)]
    assert [row[2] for row in cells[1:]] == [0, 24, 0]  # the 25-hour day holds every post
    assert [row[3] for row in cells[1:]] == [False, False, False]


def test_xlsx_survives_calc_typed_with_text_intact(dst_posts, tmp_path):
    rng = resolve_range("custom", tz=NY, start=date(2026, 10, 26), end=date(2026, 11, 8))
    data = explore("new_posts", rng=rng, granularity="week", tz=NY, cumulative=True)
    [xlsx] = files.aggregate_files(data.frame, files.explore_provenance(data), fmt="xlsx", style="header", stem="w")
    ours = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    book = through_calc(xlsx.data, "w.xlsx", tmp_path)
    for wb in (ours, book):
        cells = rows_of(wb["Data"])
        assert cells[0] == ["Period start", "Period end", "Count", "Running total", "Partial"]
        assert cells[1][:3] == [datetime(2026, 10, 26), datetime(2026, 11, 1), 24]
        assert isinstance(cells[1][2], int) and isinstance(cells[1][3], int) and cells[1][4] in (False, 0)
        provenance = provenance_sheet(wb)
        assert provenance["tz"] == NY and provenance["granularity"] == "week" and provenance["cumulative"] in (True, 1)
    # A table with text: non-ASCII, emoji, `#`, formula-like text and zoned times with their offsets.
    frame = pd.DataFrame(
        {
            "message": MESSAGES,
            "count": range(len(MESSAGES)),
            "created_at_local": [
                datetime(2026, 11, 1, 5, 30, tzinfo=UTC) + timedelta(hours=i // 3) for i in range(len(MESSAGES))
            ],
        }
    )
    frame["created_at_local"] = frame["created_at_local"].dt.tz_convert(NY)
    [xlsx] = files.aggregate_files(frame, files.explore_provenance(data), fmt="xlsx", style="sidecar", stem="m")[:1]
    for wb in (openpyxl.load_workbook(io.BytesIO(xlsx.data)), through_calc(xlsx.data, "m.xlsx", tmp_path)):
        sheet = wb["Data"]
        assert [c.value for c in sheet[1]] == ["Message", "Count", "Created at (local)"]
        assert [c.value for c in sheet["A"][1:]] == MESSAGES  # exact: XLSX text is never a formula
        assert all(c.data_type == "s" for c in sheet["A"][1:])
        assert [c.value for c in sheet["C"][1:]] == [
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T01:30:00-05:00",
            "2026-11-01T01:30:00-05:00",
        ]


# --- XLSX types, checked with openpyxl --------------------------------------------------


def test_xlsx_cells_are_typed(dst_posts):
    rng = resolve_range("custom", tz=NY, start=date(2026, 10, 31), end=date(2026, 11, 2))
    data = explore("new_posts", rng=rng, granularity="day", tz=NY)
    [xlsx] = files.aggregate_files(data.frame, files.explore_provenance(data), fmt="xlsx", style="header", stem="d")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["Data"]
    assert sheet.freeze_panes == "A2"
    for row in sheet.iter_rows(min_row=2):
        start, end, count, partial = row
        assert start.is_date and start.number_format == "yyyy-mm-dd" and end.is_date
        assert count.data_type == "n" and isinstance(count.value, int)
        assert partial.data_type == "b" and isinstance(partial.value, bool)


def test_xlsx_text_that_names_an_error_or_a_formula_stays_text():
    # openpyxl stores "#N/A" as an error cell and "=1+1" as a formula unless told otherwise.
    texts = ["#N/A", "#DIV/0!", "#REF!", "=1+1", "# hashtag"]
    frame = pd.DataFrame({"message": texts, "count": range(len(texts))})
    provenance = files.Provenance("t", "UTC", date(2026, 1, 1), date(2026, 1, 2), None, 5, False, datetime.now(UTC))
    [xlsx] = files.aggregate_files(frame, provenance, fmt="xlsx", style="header", stem="t")
    cells = list(openpyxl.load_workbook(io.BytesIO(xlsx.data))["Data"]["A"])[1:]
    assert [(c.value, c.data_type) for c in cells] == [(t, "s") for t in texts]


# --- local times with their offsets -------------------------------------------------------


@pytest.mark.parametrize(
    "tz, utc_times, expected",
    [
        (  # New York falls back: 01:30 twice, an hour apart
            NY,
            ["2026-11-01 05:30:00", "2026-11-01 06:30:00"],
            ["2026-11-01T01:30:00.000000-04:00", "2026-11-01T01:30:00.000000-05:00"],
        ),
        (  # New York springs forward: 01:59 EST, then 03:00 EDT one minute later
            NY,
            ["2026-03-08 06:59:00", "2026-03-08 07:00:00"],
            ["2026-03-08T01:59:00.000000-05:00", "2026-03-08T03:00:00.000000-04:00"],
        ),
        (  # Lord Howe ends DST by half an hour: 01:45 twice, 30 minutes apart
            LORD_HOWE,
            ["2026-04-04 14:45:00", "2026-04-04 15:15:00"],
            ["2026-04-05T01:45:00.000000+11:00", "2026-04-05T01:45:00.000000+10:30"],
        ),
        (  # and starts it by half an hour: 01:59 (+10:30), then 02:30 (+11:00)
            LORD_HOWE,
            ["2026-10-03 15:29:00.5", "2026-10-03 15:30:00"],
            ["2026-10-04T01:59:00.500000+10:30", "2026-10-04T02:30:00.000000+11:00"],
        ),
    ],
)
def test_local_times_carry_their_offset_across_dst(db, tz, utc_times, expected):
    author = add_user(db, "a", utc_times[0])
    for when in utc_times:
        add_post(db, author, when)
    day = date.fromisoformat(expected[0][:10])
    _, posts = csv_rows(extract("activities", tz, day, day))
    assert [p["created_at_local"] for p in posts] == expected
    assert [utc(p["created_at_local"]) for p in posts] == [utc(p["created_at_utc"]) for p in posts]
    assert [utc(p["created_at_utc"]) for p in posts] == [
        datetime.fromisoformat(t).replace(tzinfo=UTC) for t in utc_times
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", p["created_at_utc"]) for p in posts)
    _, [user] = csv_rows(extract("users", tz, day, day))
    assert user["created_at_local"] == expected[0]


def test_zoned_times_in_a_table_are_written_with_their_offset():
    frame = pd.DataFrame({"at": pd.to_datetime(["2026-11-01 05:30", "2026-11-01 06:30"], utc=True).tz_convert(NY)})
    assert presentable(frame)["at"].tolist() == ["2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"]


# --- pseudonymised extracts ----------------------------------------------------------------

EMAIL = re.compile(rb"[^\s@,\"]+@[^\s@,\"]+\.[^\s@,\"]+")


@pytest.fixture
def people(db):
    when = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    ids = [add_user(db, f"person{i}", when) for i in range(5)]
    db.execute(
        "INSERT INTO users (display_name, handle, email, cognito_user_id, created_at) VALUES (%s, %s, %s, %s, %s)",
        ("jane.doe@example.org", "jane", "jane.doe@example.org", "us-east-1:9f3c", when),
    )
    add_post(db, ids[0], when, message="write to me at bob.smith@example.com, or @person1")
    add_post(db, ids[1], when, message="=1+1 mail bob@x.io")
    return db


def test_a_pseudonymised_extract_holds_no_email_and_its_hashes_are_stable_within_the_key(people):
    today = datetime.now(UTC).date()
    key = pseudonyms_for("a-server-secret-of-32-characters-or-more", "study")
    emails = [r[0] for r in people.execute("SELECT email FROM users ORDER BY created_at, uuid")]
    cognito = [r[0] for r in people.execute("SELECT cognito_user_id FROM users ORDER BY created_at, uuid")]

    users = extract("users", "UTC", today - timedelta(days=1), today, style="header", pseudonyms=key)
    posts = extract("activities", "UTC", today - timedelta(days=1), today, style="header", pseudonyms=key)
    for data in (users, posts):
        assert not EMAIL.search(data), EMAIL.search(data)
    meta, rows = csv_rows(users)
    assert sorted(r["email"] for r in rows) == sorted(key.of(e) for e in emails)  # HMAC-SHA256, 32 hex digits
    assert sorted(r["cognito_user_id"] for r in rows) == sorted(key.of(c) for c in cognito)
    assert [r["email"] for r in rows] == [
        hmac.new(key.key, e.encode(), hashlib.sha256).hexdigest()[:32] for e in emails
    ]
    assert "[e-mail removed]" in {r["display_name"] for r in rows}
    assert meta["personal_data"] == "pseudonymised" and meta["pseudonymised"] == "email;cognito_user_id"
    assert meta["masked"] == "display_name;handle" and meta["pseudonym_key"] == "study"
    post_meta, post_rows = csv_rows(posts)
    assert post_meta["masked"] == "author_handle;message" and post_meta["pseudonymised"] == "none"
    assert sorted(r["message"] for r in post_rows) == [
        "'=1+1 mail [e-mail removed]",  # still neutralised after masking
        "write to me at [e-mail removed] or @person1",  # a mention is no address
    ]

    # Stable within one key, in another extract; unlinkable under another key or another secret.
    again = csv_rows(extract("users", "UTC", today - timedelta(days=1), today, pseudonyms=key))[1]
    assert [r["email"] for r in again] == [r["email"] for r in rows]
    for other in (
        pseudonyms_for("a-server-secret-of-32-characters-or-more", "another study"),
        pseudonyms_for("another-server-secret-of-32-characters", "study"),
    ):
        hashed = csv_rows(extract("users", "UTC", today - timedelta(days=1), today, pseudonyms=other))[1]
        assert {r["email"] for r in hashed}.isdisjoint({r["email"] for r in rows})
    # The full extract (admins) keeps every column as stored.
    full_meta, full = csv_rows(extract("users", "UTC", today - timedelta(days=1), today, style="header"))
    assert [r["email"] for r in full] == emails and full_meta["personal_data"] == "full"


def test_a_pseudonymised_zip_says_in_its_provenance_which_columns_changed(people):
    today = datetime.now(UTC).date()
    key = pseudonyms_for("a-server-secret-of-32-characters-or-more", "study")
    with raw.open_raw("users", tz="UTC", start_day=today - timedelta(days=1), end_day=today, pseudonyms=key) as ex:
        data = b"".join(ex.download("sidecar"))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        csv_name, json_name = zf.namelist()
        assert not EMAIL.search(zf.read(csv_name))
        about = json.loads(zf.read(json_name))
    assert about["pseudonymised"] == "email;cognito_user_id" and "HMAC-SHA256" in about["pseudonymised_as"]
    assert about["columns"] == {name: label(name) for name in RAW_COLUMNS["users"]}


def test_export_keys_must_be_names():
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(ValueError, match="export key"):
            pseudonyms_for("secret", bad)


def test_csv_headers_helper_reads_labels():
    data = BOM.encode() + b"Period start,Count\n2026-01-01,1\n"
    assert csv_headers(data) == ["Period start", "Count"] and split_csv(data)[0] is None
