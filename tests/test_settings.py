"""Settings and secret hygiene (db/settings.py, db/errors.py)."""
import pytest

from db.errors import safe_message, scrub
from db.settings import ConfigError, get_settings, mask_url


@pytest.mark.parametrize("url, shown", [
    ("postgresql://cruddur:p%40ss@db.example.com:5432/cruddur", "postgresql://cruddur:***@db.example.com:5432/cruddur"),
    ("postgresql://cruddurroot:hunter22@h/cruddur", "postgresql://cruddurroot:***@h/cruddur"),
    ("postgresql://postgres:@/cruddur?host=/tmp/x", "postgresql://postgres@/cruddur?host=/tmp/x"),
    ("postgresql://h/db", "postgresql://h/db"),
    ("host=h user=u password='se cret' dbname=d", "host=h user=u password=*** dbname=d"),
    (None, "(not set)"),
])
def test_mask_url_hides_passwords(url, shown):
    assert mask_url(url) == shown


def test_prod_selects_the_production_url(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://dev/db")
    monkeypatch.setenv("PROD_CONNECTION_URL", "postgresql://prod/db")
    assert get_settings().database_url == "postgresql://dev/db"
    monkeypatch.setenv("APP_ENV", "prod")
    settings = get_settings()
    assert settings.is_prod and settings.database_url == "postgresql://prod/db"


def test_secrets_file_is_read_and_environment_wins(monkeypatch, tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('CONNECTION_URL = "postgresql://from-secrets/db"\nREPORT_TZ = "Europe/Berlin"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(secrets))
    settings = get_settings()
    assert settings.database_url == "postgresql://from-secrets/db" and settings.report_tz == "Europe/Berlin"
    monkeypatch.setenv("REPORT_TZ", "Asia/Tokyo")
    assert get_settings().report_tz == "Asia/Tokyo"


@pytest.mark.parametrize("name, value", [("REPORT_TZ", "Not/AZone"), ("CACHE_TTL", "soon"), ("APP_ENV", "staging")])
def test_bad_settings_are_clear_errors(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name if name != "REPORT_TZ" else "Unknown time zone"):
        get_settings()


def test_errors_never_carry_the_password(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://app:Sup3rSecret@db.internal/cruddur")
    text = scrub("failed for postgresql://app:Sup3rSecret@db.internal/cruddur; password=Sup3rSecret; Sup3rSecret")
    assert "Sup3rSecret" not in text
    assert "Sup3rSecret" not in safe_message(RuntimeError("boom Sup3rSecret"))
