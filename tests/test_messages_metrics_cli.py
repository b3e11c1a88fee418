"""`python -m metrics follow | backfill` against moto's DynamoDB: the same counts as the table, idempotently."""

from __future__ import annotations

import pytest

from metrics import stream
from metrics.__main__ import main
from tests import messages_app
from tests.messages_app import TABLE, ZONES, App, create_table, metric_counts, table_counts, totals

aws = messages_app.aws  # fixture
lf = messages_app.lf  # fixture


def counts_match(db, dynamodb) -> None:
    for tz in ZONES:
        assert metric_counts(db, tz) == table_counts(dynamodb, tz), tz


def test_backfill_rebuilds_the_counts_of_a_table_without_a_stream(aws, db, capsys):
    dynamodb, _ = aws
    create_table(dynamodb, stream=False)
    App(dynamodb).traffic(conversations=10, messages=60)
    assert main(["backfill"]) == 0
    assert "70 message(s) added" in capsys.readouterr().out
    counts_match(db, dynamodb)
    assert main(["backfill"]) == 0  # again: nothing changes
    assert "0 message(s) added" in capsys.readouterr().out
    assert totals(db) == (70, 10)
    counts_match(db, dynamodb)


def test_backfill_pages_through_a_large_table(aws, db, monkeypatch, capsys):
    """More items than one scan page of this size and one batch: every page, every batch."""
    dynamodb, _ = aws
    create_table(dynamodb, stream=False)
    App(dynamodb).traffic(conversations=5, messages=25)
    monkeypatch.setattr(stream, "BATCH", 7)
    scans = []
    real = dynamodb.get_paginator

    class Spy:
        def paginate(self, **kwargs):
            kwargs["PaginationConfig"] = {"PageSize": 4}
            for page in real("scan").paginate(**kwargs):
                scans.append(len(page["Items"]))
                yield page

    monkeypatch.setattr(stream, "clients", lambda: (type("C", (), {"get_paginator": lambda self, n: Spy()})(), None))
    assert main(["backfill"]) == 0
    assert len(scans) >= 8 and "in 5 batch(es)" in capsys.readouterr().out
    counts_match(db, dynamodb)


def test_backfill_fills_what_a_trimmed_stream_missed(aws, lf, db):
    """The Lambda saw only the later half of the stream; backfill adds the rest and moves conversation starts back."""
    from tests.messages_app import event, stream_records

    dynamodb, streams = aws
    create_table(dynamodb)
    App(dynamodb).traffic(conversations=6, messages=30)
    records = stream_records(dynamodb, streams)
    assert lf.lambda_handler(event(records[len(records) // 2 :])) == {"batchItemFailures": []}
    assert totals(db)[0] < 36
    assert main(["backfill"]) == 0
    counts_match(db, dynamodb)


def test_follow_reads_the_stream_into_the_same_counts(aws, db, capsys):
    dynamodb, _ = aws
    create_table(dynamodb)
    app = App(dynamodb)
    app.traffic(conversations=8, messages=40)
    assert main(["follow", "--max-polls", "1", "--interval", "0"]) == 0
    out = capsys.readouterr().out
    assert "1 poll(s)" in out and "48 message(s) added" in out
    counts_match(db, dynamodb)
    # New traffic, and a follower started again from the trim horizon: replays count nothing twice.
    app.traffic(conversations=2, messages=10)
    assert main(["follow", "--max-polls", "2", "--interval", "0"]) == 0
    assert "12 message(s) added" in capsys.readouterr().out
    counts_match(db, dynamodb)
    assert totals(db) == (60, 10)


def test_follow_from_latest_skips_the_past(aws, db):
    dynamodb, _ = aws
    create_table(dynamodb)
    App(dynamodb).traffic(conversations=2, messages=3)
    assert main(["follow", "--max-polls", "1", "--interval", "0", "--from", "latest"]) == 0
    assert totals(db) == (0, 0)


def test_follow_reports_unusable_records_and_goes_on(aws, db, capsys, caplog):
    dynamodb, _ = aws
    create_table(dynamodb)
    App(dynamodb).traffic(conversations=2, messages=3)
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "MSG#nope"}, "sk": {"S": "soon"}, "message": {"S": "x"}})
    assert main(["follow", "--max-polls", "1", "--interval", "0"]) == 1
    assert "1 unusable record(s) skipped" in capsys.readouterr().out
    assert totals(db) == (5, 2)
    assert '"reason": "NewImage.message_uuid is missing"' in caplog.text


def test_a_table_without_a_stream_cannot_be_followed(aws, db, capsys):
    dynamodb, _ = aws
    create_table(dynamodb, stream=False)
    assert main(["follow", "--max-polls", "1"]) == 2
    assert "has no stream" in capsys.readouterr().err
    assert main(["--table", "nope", "backfill"]) == 2
    assert "ResourceNotFoundException" in capsys.readouterr().err


def test_production_is_written_only_when_allowed(aws, db, db_url, monkeypatch, capsys):
    dynamodb, _ = aws
    create_table(dynamodb, stream=False)
    App(dynamodb).traffic(conversations=1, messages=1)
    monkeypatch.setenv("PROD_CONNECTION_URL", db_url)
    assert main(["backfill"]) == 2
    assert "ALLOW_PROD_WRITES" in capsys.readouterr().err
    assert totals(db) == (0, 0)
    monkeypatch.setenv("ALLOW_PROD_WRITES", "1")
    assert main(["backfill"]) == 0
    assert totals(db) == (2, 1)


def test_the_endpoint_and_region_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:8000")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    dynamodb, streams = stream.clients()
    assert dynamodb.meta.endpoint_url == streams.meta.endpoint_url == "http://localhost:8000"
    assert dynamodb.meta.region_name == "ap-south-1"
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(stream.SourceError, match="AWS_REGION"):
        stream.clients()
