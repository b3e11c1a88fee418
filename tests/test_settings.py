"""Settings and secret hygiene (db/settings.py, db/errors.py)."""
import os

import pytest

from db import settings
from db.errors import safe_message, scrub
from db.settings import ConfigError, get_settings


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


def test_the_launchers_pinned_environment_wins_over_secrets_streamlit_copies_into_it(monkeypatch, tmp_path):
    """Streamlit copies top-level secrets into os.environ, over the operator's
    variables; `python -m web` pins the environment first, so a variable still
    beats the file, and a key only in the file still comes from the file."""
    from streamlit import config
    from streamlit.runtime.secrets import Secrets

    path = tmp_path / "secrets.toml"
    path.write_text('ADMIN_PASSWORD = "from-file"\nREPORT_TZ = "Asia/Tokyo"\n')
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(path))
    monkeypatch.setenv("ADMIN_PASSWORD", "from-env")
    monkeypatch.setattr(settings, "_pinned_env", None)
    settings.pin_environment()
    previous = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    try:
        assert Secrets().load_if_toml_exists()  # what the running app does at start
    finally:
        config.set_option("secrets.files", previous)
    assert os.environ["ADMIN_PASSWORD"] == "from-file"  # Streamlit's doing
    assert settings.setting("ADMIN_PASSWORD") == "from-env"
    assert settings.setting("REPORT_TZ") == "Asia/Tokyo"


# -- time zones: only names PostgreSQL also knows ------------------------------

# Python's zoneinfo opens these files, but PostgreSQL rejects the names.
NOT_POSTGRES_ZONES = ["right/UTC", "posixrules", "posix/Europe/Berlin", "localtime"]


@pytest.mark.parametrize("name", NOT_POSTGRES_ZONES + ["Not/AZone", "", "../etc/passwd", "Europe/Berlin\x00"])
def test_valid_timezone_accepts_only_iana_names(name):
    with pytest.raises(ConfigError, match="Unknown time zone"):
        settings.valid_timezone(name)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_valid_timezone_keeps_real_zones(name):
    assert settings.valid_timezone(name) == name


@pytest.mark.parametrize("name", ["right/UTC", "posixrules", "localtime"])
def test_cli_says_unknown_time_zone_not_database_error(db_url, capsys, name):
    from queries.__main__ import main

    assert main(["run", "new_users_per_day", "-p", f"tz={name}"]) == 2
    err = capsys.readouterr().err
    assert "Unknown time zone" in err and "Database error" not in err


def test_report_tz_postgres_rejects_is_a_config_error(db_url, capsys, monkeypatch):
    from queries.__main__ import main

    monkeypatch.setenv("REPORT_TZ", "posixrules")
    assert main(["run", "new_users_per_day"]) == 2
    err = capsys.readouterr().err
    assert "Unknown time zone 'posixrules'" in err and "Database error" not in err
