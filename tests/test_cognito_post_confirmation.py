"""The Cognito post-confirmation Lambda (lambdas/cognito_post_confirmation), against the real test database.

Long because it is the table of hostile events and connection strings for one handler, deployed alone.
"""

import copy
import threading
import time

import psycopg
import pytest

from lambdas.cognito_post_confirmation import lambda_function as handler

ROBERT = "Robert'); DROP TABLE users;--"


def cognito_event(
    sub="0b5c7a1e-4f1e-4c5b-9a0e-1c2d3e4f5a6b",
    name="Andrew Brown",
    handle="andrewbrown",
    email="andrew@example.com",
    trigger="PostConfirmation_ConfirmSignUp",
):
    """The shape Cognito sends to a post-confirmation trigger."""
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_AbCdEfGhI",
        "userName": sub,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "4abcdefghijklmnopqrstuv"},
        "triggerSource": trigger,
        "request": {
            "userAttributes": {
                "sub": sub,
                "email_verified": "true",
                "cognito:user_status": "CONFIRMED",
                "name": name,
                "preferred_username": handle,
                "email": email,
            }
        },
        "response": {},
    }


@pytest.fixture(autouse=True)
def fresh_connection():
    handler._close()
    yield
    handler._close()


def users(db):
    return db.execute("SELECT display_name, handle, email, cognito_user_id FROM users ORDER BY handle").fetchall()


def test_a_sign_up_inserts_the_user_and_returns_the_event(db):
    event = cognito_event()
    assert handler.lambda_handler(copy.deepcopy(event), None) == event
    assert users(db) == [
        ("Andrew Brown", "andrewbrown", "andrew@example.com", event["request"]["userAttributes"]["sub"])
    ]


def test_two_identical_events_insert_once(db):
    event = cognito_event()
    handler.lambda_handler(event, None)
    handler.lambda_handler(copy.deepcopy(event), None)  # Cognito retried the trigger
    assert len(users(db)) == 1


def test_hostile_values_are_stored_verbatim(db):
    hostile = [
        cognito_event(sub="sub-1", name=ROBERT, handle="bobby", email="bobby@example.com"),
        cognito_event(
            sub="sub-2",
            name='O\'Brien \\ "quoted" %s %(x)s {name}',
            handle="o'brien",
            email='"x\'; DELETE FROM users; --"@example.com',
        ),
        cognito_event(sub="'); DROP TABLE activities;--", name="Zoë 😀 ☃", handle="zoe", email="zoë@exämple.com"),
    ]
    for event in hostile:
        handler.lambda_handler(event, None)
    stored = {row[1]: row for row in users(db)}
    assert stored["bobby"][0] == ROBERT
    assert stored["o'brien"][0] == 'O\'Brien \\ "quoted" %s %(x)s {name}'
    assert stored["o'brien"][2] == '"x\'; DELETE FROM users; --"@example.com'
    assert stored["zoe"][3] == "'); DROP TABLE activities;--" and stored["zoe"][0] == "Zoë 😀 ☃"
    assert db.execute("SELECT count(*) FROM activities").fetchone()[0] == 0  # the table is still there
    handler.lambda_handler(hostile[0], None)
    assert len(users(db)) == 3


def test_overlapping_retries_insert_once(db_url, db):
    """A second invocation waits on the advisory lock and then sees the first one's row."""
    user = handler.user_from_event(cognito_event())
    first = psycopg.connect(db_url)
    second = psycopg.connect(db_url)
    results = []
    try:
        with first.transaction():
            assert handler.save_user(first, user) is True  # inserted, not yet committed
            thread = threading.Thread(target=lambda: results.append(handler.save_user(second, user)))
            thread.start()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # until the second one is blocked on the lock
                waiting = db.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.02)
            assert waiting == 1
        thread.join(5)
        assert results == [False]
        assert len(users(db)) == 1
    finally:
        first.close()
        second.close()


def test_forgot_password_confirmations_add_nobody(db):
    event = cognito_event(trigger="PostConfirmation_ConfirmForgotPassword")
    assert handler.lambda_handler(event, None) == event
    assert users(db) == []


@pytest.mark.parametrize("attribute", ["sub", "name", "preferred_username", "email"])
def test_a_missing_attribute_fails_loudly_and_writes_nothing(db, attribute):
    event = cognito_event()
    del event["request"]["userAttributes"][attribute]
    with pytest.raises(handler.InvalidEvent, match=f"{attribute} is missing"):
        handler.lambda_handler(event, None)
    assert users(db) == []


def test_a_nul_character_is_refused_rather_than_mangled(db):
    with pytest.raises(handler.InvalidEvent, match="NUL"):
        handler.lambda_handler(cognito_event(name="bad\x00name"), None)
    assert users(db) == []


def test_database_failures_are_raised_not_swallowed(db_url, db, monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", db_url)
    handler.lambda_handler(cognito_event(), None)
    db.execute("ALTER TABLE users RENAME TO users_gone")
    try:
        with pytest.raises(psycopg.errors.UndefinedTable):
            handler.lambda_handler(cognito_event(sub="another"), None)
    finally:
        db.execute("ALTER TABLE users_gone RENAME TO users")
    monkeypatch.setenv("CONNECTION_URL", "postgresql://cruddur:Pw-lambda-7@127.0.0.1:1/cruddur")
    handler._close()
    with pytest.raises(psycopg.OperationalError) as caught:
        handler.lambda_handler(cognito_event(sub="third"), None)
    assert "Pw-lambda-7" not in str(caught.value)
    monkeypatch.delenv("CONNECTION_URL")
    handler._close()
    with pytest.raises(RuntimeError, match="CONNECTION_URL is not set"):
        handler.lambda_handler(cognito_event(sub="fourth"), None)


def test_iam_login_uses_a_token_for_the_urls_host_and_user(monkeypatch, caplog):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADUMMYDUMMYDUMMY0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-key-for-tests")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    token = handler._iam_token("postgresql://cognito@cruddur.abc.us-east-1.rds.amazonaws.com:5432/cruddur")
    assert token.startswith("cruddur.abc.us-east-1.rds.amazonaws.com:5432/?Action=connect&DBUser=cognito&")
    monkeypatch.setenv("DB_IAM_AUTH", "1")
    monkeypatch.setenv("CONNECTION_URL", "postgresql://cognito@127.0.0.1:1/cruddur")
    with pytest.raises(psycopg.OperationalError) as caught:
        handler.lambda_handler(cognito_event(), None)
    assert "X-Amz" not in str(caught.value)


# -- malformed events: always InvalidEvent, never AttributeError or UnicodeEncodeError --


def with_attributes(**changes):
    event = cognito_event()
    event["request"]["userAttributes"].update(changes)
    return event


def with_request(request):
    event = cognito_event()
    event["request"] = request
    return event


def without(key):
    event = cognito_event()
    del event[key]
    return event


@pytest.mark.parametrize(
    "event, message",
    [
        ([cognito_event()], "the event must be an object, not a list"),
        (None, "the event is missing"),
        ("PostConfirmation_ConfirmSignUp", "the event must be an object, not a string"),
        ({**cognito_event(), "triggerSource": 7}, "triggerSource must be a string, not a number"),
        (without("triggerSource"), "triggerSource is missing"),
        (without("request"), "request is missing"),
        (with_request([{"userAttributes": {}}]), "request must be an object, not a list"),
        (with_request("userAttributes"), "request must be an object, not a string"),
        (with_request({"userAttributes": [["sub", "x"]]}), "request.userAttributes must be an object, not a list"),
        (with_request({"userAttributes": "sub=x"}), "request.userAttributes must be an object, not a string"),
        (with_request({"userAttributes": None}), "request.userAttributes is missing"),
        (with_request({}), "request.userAttributes is missing"),
        (with_attributes(name="\ud800"), "name is not valid Unicode"),
        (with_attributes(email="andrew\udcff@example.com"), "email is not valid Unicode"),
        (with_attributes(sub="lone \udfff low surrogate"), "sub is not valid Unicode"),
        (with_attributes(sub=12345), "sub must be a string, not a number"),
        (with_attributes(preferred_username=True), "preferred_username must be a string, not a boolean"),
        (with_attributes(name={"first": "Andrew"}), "name must be a string, not an object"),
        (with_attributes(email=["andrew@example.com"]), "email must be a string, not a list"),
        (with_attributes(name=1.5, email=None), "name must be a string, not a number; email is missing"),
    ],
)
def test_malformed_events_are_invalid_events_and_write_nothing(db, event, message):
    with pytest.raises(handler.InvalidEvent) as caught:
        handler.lambda_handler(event, None)
    text = str(caught.value)
    assert message in text
    text.encode("utf-8")  # printable in the Lambda's log as it is
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert users(db) == []


def test_no_values_are_quoted_in_invalid_event_messages(db):
    with pytest.raises(handler.InvalidEvent) as caught:
        handler.lambda_handler(with_attributes(name="Secret Name\ud800", email=["private@example.com"]), None)
    assert "Secret" not in str(caught.value) and "private" not in str(caught.value)


# -- a malformed CONNECTION_URL never puts its password in an error ----------------

SECRET = "Sekr1t-Pw"


def everything_said(exc: BaseException) -> str:
    """All the text an error can put in a log: itself, anything chained, and its traceback."""
    import traceback

    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            parts += [str(linked), repr(linked)]
    return "\n".join(parts)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:pa ss{SECRET}@h/db?sslmode=bogus",
        f"postgresql://u:{SECRET}%zz@h/db",
        f"host=h password='{SECRET}",
        f"host=h password='{SECRET}'more dbname=x",
        f"postgresql://u:{SECRET}@127.0.0.1:1/db?no_such_option=1",
    ],
)
def test_an_unparseable_url_is_named_not_quoted(monkeypatch, url):
    monkeypatch.setenv("CONNECTION_URL", url)
    with pytest.raises(RuntimeError) as caught:
        handler.lambda_handler(cognito_event(), None)
    assert str(caught.value) == "CONNECTION_URL cannot be parsed (check its quoting and percent-escapes)"
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert SECRET not in everything_said(caught.value)


@pytest.mark.parametrize(
    "url, fragments, reason",
    [
        # parsed, but libpq's message would quote pieces of the mistyped password
        (f"postgresql://u:{SECRET}@x{SECRET}@127.0.0.1:1/db", [f"x{SECRET}"], "host name cannot be resolved"),
        (f"postgresql://127.0.0.1:{SECRET}/tail@x/db", ["tail@x"], "invalid value"),  # the password as the port
        (f"postgresql://u:{SECRET}@127.0.0.1:1/db?sslmode=bogus", [], "invalid value"),
        (f"host=127.0.0.1 port=1 user=u password=se'{SECRET} dbname=db", [], "connection refused"),
        (f"postgresql://u:{SECRET}@127.0.0.1:1/db", [], "connection refused"),
    ],
)
def test_a_connection_failure_does_not_carry_the_password(monkeypatch, url, fragments, reason):
    monkeypatch.setenv("CONNECTION_URL", url)
    with pytest.raises(psycopg.OperationalError) as caught:
        handler.lambda_handler(cognito_event(), None)
    said = everything_said(caught.value)
    assert reason in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    for secret in [SECRET, *fragments]:
        assert secret not in said


@pytest.mark.parametrize(
    "url", [f"postgresql://u:{SECRET}@x{SECRET}@127.0.0.1:1/db", f"postgresql://127.0.0.1:{SECRET}/tail@x/db"]
)
def test_libpq_itself_would_have_quoted_a_piece_of_the_password(url):
    """Why the messages above are replaced rather than passed on."""
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(url, connect_timeout=2)
    assert SECRET in str(caught.value)
