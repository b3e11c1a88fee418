"""The messages metrics Lambda against hostile records and a failing database: reported, nothing half-written."""

from __future__ import annotations

import copy
import threading
import uuid

import psycopg
import pytest

from tests import messages_app
from tests.messages_app import SECRET_TEXT, TABLE, event, totals

lf = messages_app.lf  # fixture

GROUP = "6f0c1c1e-8a8b-4c53-9a57-1f1b6f7d1e02"
SENDER = "0b5c7a1e-4f1e-4c5b-9a0e-1c2d3e4f5a6b"
_sequence = iter(range(10**20, 10**21))


def message_record(name: str = "INSERT", **image: object) -> dict:
    """A stream record of a message item as Lambda delivers it; `image` overrides attributes (None drops one)."""
    item = {
        "pk": {"S": f"MSG#{GROUP}"},
        "sk": {"S": "2026-11-20T18:20:00.123456+05:45"},
        "message": {"S": SECRET_TEXT},
        "message_uuid": {"S": str(uuid.uuid4())},
        "user_uuid": {"S": SENDER},
        "user_display_name": {"S": "Andrew Brown"},
        "user_handle": {"S": "andrewbrown"},
    }
    for key, value in image.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value  # type: ignore[assignment]
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}/stream/2026-11-27T00:00:00.000",
        "dynamodb": {
            "ApproximateCreationDateTime": 1764201600.0,
            "Keys": {"pk": {"S": f"MSG#{GROUP}"}, "sk": item.get("sk", {"S": "x"})},
            "NewImage": item,
            "SequenceNumber": str(next(_sequence)),
            "SizeBytes": 300,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def _with(record: dict, change) -> dict:
    record = copy.deepcopy(record)
    change(record)
    return record


def _set_keys(record: dict, pk: object) -> None:
    record["dynamodb"]["Keys"]["pk"] = pk
    record["dynamodb"]["NewImage"]["pk"] = pk


HOSTILE = {
    "message_uuid missing": message_record(message_uuid=None),
    "user_uuid missing": message_record(user_uuid=None),
    "message_uuid a number attribute": message_record(message_uuid={"N": "7"}),
    "message_uuid not a string": message_record(message_uuid={"S": 7}),
    "attribute of two types": message_record(user_uuid={"S": SENDER, "N": "1"}),
    "attribute not an object": message_record(user_uuid=SENDER),
    "bad uuid": message_record(message_uuid={"S": "not-a-uuid"}),
    "uuid with braces": message_record(message_uuid={"S": "{" + str(uuid.uuid4()) + "}"}),
    "huge user_uuid": message_record(user_uuid={"S": "a" * 1_000_000}),
    "huge sk": message_record(sk={"S": "2026-11-20T18:20:00+05:45" + " " * 1_000_000}),
    "NUL in sk": message_record(sk={"S": "2026-11-20T18:20:00\x00+05:45"}),
    "NUL in message_uuid": message_record(message_uuid={"S": str(uuid.uuid4())[:-1] + "\x00"}),
    "lone surrogate in sk": message_record(sk={"S": "2026-11-20T18:20:00+05:4\ud800"}),
    "lone surrogate in user_uuid": message_record(user_uuid={"S": SENDER[:-1] + "\udfff"}),
    "sk without offset": message_record(sk={"S": "2026-11-20T18:20:00"}),
    "sk not a time": message_record(sk={"S": "yesterday"}),
    "sk out of range": message_record(sk={"S": "0001-01-01T00:00:00+05:00"}),
    "bad group uuid in pk": _with(message_record(), lambda r: _set_keys(r, {"S": "MSG#nope"})),
    "pk a list": _with(message_record(), lambda r: _set_keys(r, {"L": []})),
    "no NewImage": _with(message_record(), lambda r: r["dynamodb"].pop("NewImage")),
    "NewImage a list": _with(message_record(), lambda r: r["dynamodb"].update(NewImage=[])),
    "no Keys": _with(message_record(), lambda r: r["dynamodb"].pop("Keys")),
    "image key differs": _with(message_record(), lambda r: r["dynamodb"]["Keys"].update(sk={"S": "other"})),
    "unknown eventName": message_record(name="UPSERT"),
    "no eventName": _with(message_record(), lambda r: r.pop("eventName")),
}


@pytest.mark.parametrize("name", sorted(HOSTILE), ids=sorted(HOSTILE))
def test_a_hostile_record_is_reported_and_writes_nothing(name, lf, db, caplog):
    record = HOSTILE[name]
    with caplog.at_level("INFO"):
        answer = lf.lambda_handler(event([record]))
    assert answer == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert totals(db) == (0, 0)
    assert SECRET_TEXT not in caplog.text and "\x00" not in caplog.text and len(caplog.text) < 2000
    # Beside good records, only it fails: the good ones are committed.
    good = [message_record(), message_record()]
    answer = lf.lambda_handler(event([good[0], record, good[1]]))
    assert answer == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert totals(db) == (2, 1)


def test_a_batch_of_hostile_records_reports_every_one(lf, db, caplog):
    records = [HOSTILE[name] for name in sorted(HOSTILE)]
    with caplog.at_level("INFO"):
        answer = lf.lambda_handler(event(records))
    assert answer == {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]}
    assert totals(db) == (0, 0)
    assert SECRET_TEXT not in caplog.text


@pytest.mark.parametrize(
    "bad_event",
    [None, {}, {"Records": "x"}, {"Records": [message_record(), {"eventName": "INSERT"}]}, {"Records": [42]}],
    ids=["none", "no Records", "Records not a list", "record without SequenceNumber", "record not an object"],
)
def test_an_event_that_cannot_be_answered_per_record_raises_and_writes_nothing(bad_event, lf, db):
    with pytest.raises(lf.InvalidEvent):
        lf.lambda_handler(bad_event)
    assert totals(db) == (0, 0)


def test_a_closed_port_is_a_clear_error_without_the_password(lf, db, monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://cruddur:s3cr3t-pw@127.0.0.1:1/cruddur")
    with pytest.raises(lf.BatchNotRecorded) as raised:
        lf.lambda_handler(event([message_record()]))
    text = str(raised.value)
    assert "connection refused" in text and "nothing was written" in text
    assert "s3cr3t" not in text and raised.value.__cause__ is None and raised.value.__context__ is None
    assert totals(db) == (0, 0)


def test_an_unparsable_connection_url_is_not_quoted(lf, monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "host=x password='s3cr3t-pw")
    with pytest.raises(RuntimeError) as raised:
        lf.lambda_handler(event([message_record()]))
    assert "s3cr3t" not in str(raised.value) and "cannot be parsed" in str(raised.value)


def test_a_connection_lost_mid_batch_writes_nothing_and_the_retry_counts_once(lf, db, db_url):
    records = [message_record() for _ in range(50)]
    lf.lambda_handler(event(records[:1]))  # a warm connection
    pid = lf._conn.info.backend_pid
    db.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(lf.BatchNotRecorded, match=r"nothing was written: the connection was lost \[SQLSTATE 57P01\]"):
        lf.lambda_handler(event(records))
    assert totals(db) == (1, 1)
    assert lf._conn is None  # the retried invocation connects again
    assert lf.lambda_handler(event(records)) == {"batchItemFailures": []}
    assert totals(db) == (50, 1)


def test_a_statement_failing_halfway_leaves_nothing_half_written(lf, db):
    """The messages are inserted, then the conversation update fails: the whole batch rolls back."""
    db.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;"
        "CREATE TRIGGER refuse BEFORE INSERT ON message_groups FOR EACH ROW EXECUTE FUNCTION refuse()"
    )
    with pytest.raises(lf.BatchNotRecorded, match="nothing was written") as raised:
        lf.lambda_handler(event([message_record() for _ in range(10)]))
    assert "SQLSTATE P0001" in str(raised.value)
    assert totals(db) == (0, 0)
    db.execute("DROP TRIGGER refuse ON message_groups")
    assert lf.lambda_handler(event([message_record()])) == {"batchItemFailures": []}
    assert totals(db) == (1, 1)


def test_missing_tables_say_to_migrate(lf, db):
    db.execute("DROP TABLE message_events")
    with pytest.raises(lf.BatchNotRecorded, match="python -m db migrate"):
        lf.lambda_handler(event([message_record()]))


def test_overlapping_invocations_count_each_message_once(lf, db, db_url):
    """Two shards' batches sharing messages, committed from two connections at once."""
    records = [message_record() for _ in range(200)]
    with psycopg.connect(db_url) as one, psycopg.connect(db_url) as two:
        one.execute("SELECT 1")  # an open transaction: process() nests in it, so its rows stay uncommitted
        lf.process(event(records[:150]), one)
        done = threading.Thread(target=lambda: lf.process(event(records[100:]), two))
        done.start()
        one.commit()
        done.join(10)
    assert totals(db) == (200, 1)
