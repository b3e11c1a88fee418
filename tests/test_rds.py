"""Connection security (db/rds.py): verified TLS for remote hosts, an IAM token per connection."""

import logging

import psycopg
import pytest

from db import pool, rds
from db.errors import safe_message
from db.settings import ConfigError

RDS_HOST = "cruddur-db.abc123xyz.us-east-1.rds.amazonaws.com"
SECRET = "Pw-9f3e1a77"


@pytest.fixture
def ca_bundle(tmp_path, monkeypatch):
    path = tmp_path / "global-bundle.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n(test bundle)\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv("PGSSLROOTCERT", str(path))
    return path


@pytest.fixture
def aws(monkeypatch):
    """A real boto3 client with dummy credentials: signing a token is local, no network."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADUMMYDUMMYDUMMY0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-key-for-tests")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    rds.iam_client.cache_clear()
    yield
    rds.iam_client.cache_clear()


def test_verify_full_is_chosen_for_a_non_local_host(ca_bundle):
    url = f"postgresql://dashboard:{SECRET}@{RDS_HOST}:5432/cruddur"
    assert rds.tls_kwargs(url) == {"sslmode": "verify-full", "sslrootcert": str(ca_bundle)}
    assert rds.tls_kwargs(f"host={RDS_HOST} dbname=cruddur user=dashboard")["sslmode"] == "verify-full"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:x@/cruddur?host=/var/run/postgresql",
        "postgresql://postgres:x@localhost/cruddur",
        "postgresql://postgres:x@127.0.0.1:5433/cruddur",
        "postgresql://postgres:x@[::1]/cruddur",
        "postgresql:///cruddur",
    ],
)
def test_local_connections_are_left_as_libpq_has_them(url):
    assert rds.tls_kwargs(url) == {}


def test_an_explicit_sslmode_wins(ca_bundle):
    assert rds.tls_kwargs(f"postgresql://u@{RDS_HOST}/db?sslmode=require") == {}
    assert rds.tls_kwargs("postgresql://u@localhost/db?sslmode=verify-ca") == {"sslrootcert": str(ca_bundle)}


def test_a_missing_ca_bundle_is_a_clear_config_error_without_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("PGSSLROOTCERT", str(tmp_path / "nope.pem"))
    url = f"postgresql://dashboard:{SECRET}@{RDS_HOST}:5432/cruddur"
    with pytest.raises(ConfigError) as caught:
        rds.tls_kwargs(url)
    message = str(caught.value)
    assert "nope.pem" in message and "PGSSLROOTCERT" in message and "verify-full" in message
    assert SECRET not in message
    # The pool refuses before opening anything, with the same message.
    monkeypatch.setenv("CONNECTION_URL", url)
    with pytest.raises(ConfigError, match="PGSSLROOTCERT"), pool.connection(pool.READER):
        pass
    assert pool.pool_stats() == {}


def test_each_new_physical_connection_gets_its_own_fresh_token(db_url, aws, monkeypatch, caplog):
    monkeypatch.setenv("DB_IAM_AUTH", "1")
    monkeypatch.setenv("DB_IAM_HOST", RDS_HOST)  # sign for RDS; the test server trusts its socket
    signed = []
    rds.iam_client("us-east-1").meta.events.register("before-sign.rds.connect", lambda **kw: signed.append(1))
    caplog.set_level(logging.DEBUG)

    reader = pool.get_pool(pool.READER)
    assert len(signed) == 1  # one token made up front, to fail early on bad settings
    with reader.connection() as first, reader.connection() as second:
        tokens = [first.info.password, second.info.password]
    physical = reader.get_stats()["connections_num"]
    assert physical >= 2
    assert len(signed) == 1 + physical  # one signature per physical connection, none reused
    for token in tokens:
        assert token.startswith(f"{RDS_HOST}:5432/?Action=connect&DBUser=postgres&")
        assert "X-Amz-Signature=" in token
    assert "X-Amz" not in caplog.text


def test_tokens_never_appear_in_errors(db_url, aws, monkeypatch, caplog):
    monkeypatch.setenv("DB_IAM_AUTH", "1")
    monkeypatch.setenv("DB_IAM_HOST", RDS_HOST)
    caplog.set_level(logging.DEBUG)
    missing = psycopg.conninfo.make_conninfo(db_url, dbname="no_such_database")
    with pytest.raises(psycopg.OperationalError) as caught:
        rds.connect(missing)
    token = rds.iam_token(missing)  # same second, same credentials: the token the failed attempt used
    shown = safe_message(caught.value) + str(caught.value) + caplog.text
    assert "no_such_database" in shown
    assert token not in shown and "X-Amz" not in shown
    assert "X-Amz" not in safe_message(RuntimeError(f"login failed with password {token}"))


def test_iam_without_credentials_or_region_says_what_is_missing(aws, monkeypatch):
    monkeypatch.setenv("DB_IAM_AUTH", "1")
    with pytest.raises(ConfigError, match="AWS_REGION"):
        rds.iam_token("postgresql://dashboard@db.internal.example/cruddur")
    with pytest.raises(ConfigError, match="RDS host name"):
        rds.iam_token("postgresql://dashboard@/cruddur?host=/tmp")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    rds.iam_client.cache_clear()
    with pytest.raises(ConfigError, match="AWS credentials"):
        rds.iam_token(f"postgresql://dashboard@{RDS_HOST}/cruddur")
