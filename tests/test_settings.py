"""Settings and secret hygiene (db/settings.py, db/errors.py)."""

import os
import re
from dataclasses import fields
from pathlib import Path

import pytest

from db import settings
from db.errors import safe_message, scrub
from db.settings import ConfigError, get_settings
from tests.conftest import _ISOLATED, ROOT


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


# -- one typed Settings object, read once per change -----------------------------


def readme_settings() -> dict[str, str]:
    """README.md's "## Settings" table: setting name -> its default cell."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        name_cell, default_cell, _meaning = (cell.strip() for cell in line.strip().strip("|").split("|", 2))
        name = re.fullmatch(r"`([A-Z0-9_]+)`", name_cell)
        assert name, f"one setting per row, written `NAME`: {name_cell!r}"
        assert name.group(1) not in rows, f"{name.group(1)} has two rows"
        rows[name.group(1)] = default_cell
    return rows


def field_of(name: str):
    return {f.name: f for f in fields(settings.Settings)}.get(name.lower())


def test_every_row_of_the_readme_table_is_a_field_and_every_field_a_row():
    rows = readme_settings()
    assert [n for n in rows if field_of(n) is None] == [], "rows naming no field of db.settings.Settings"
    missing = [f.name.upper() for f in fields(settings.Settings) if f.name.upper() not in rows]
    assert missing == [], "fields missing from README.md's Settings table"
    assert set(rows) == set(settings.ENV_NAMES)


def test_the_readme_defaults_are_the_fields_defaults():
    for name, cell in readme_settings().items():
        f = field_of(name)
        kind = f.metadata["kind"]
        literal = re.match(r"`([^`]*)`", cell)
        if not cell or not literal:  # empty, or described in words: computed where it is used
            assert f.default is None, f"{name}: the table says {cell!r}, the field {f.default!r}"
            continue
        value = literal.group(1)
        expected = {bool: lambda v: v == "1", Path: lambda v: ROOT / v}.get(kind, kind)(value)
        assert f.default == expected, f"{name}: the table says {value!r}, the field {f.default!r}"


def test_every_setting_is_isolated_in_tests():
    assert set(settings.ENV_NAMES) - set(_ISOLATED) == {"DASHBOARD_SECRETS_FILE", "DASHBOARD_DATA_DIR"}


def test_settings_are_built_once_and_again_when_the_environment_changes(monkeypatch):
    first = get_settings()
    assert get_settings() is first
    monkeypatch.setenv("CACHE_TTL", "5")
    changed = get_settings()
    assert changed is not first and changed.cache_ttl == 5 and get_settings() is changed
    monkeypatch.delenv("CACHE_TTL")
    assert get_settings().cache_ttl == 60


def test_settings_are_built_again_when_the_secrets_file_changes(monkeypatch, tmp_path):
    path = tmp_path / "secrets.toml"
    monkeypatch.setenv("DASHBOARD_SECRETS_FILE", str(path))
    assert get_settings().admin_password is None
    path.write_text('ADMIN_PASSWORD = "one"\n')
    assert get_settings().admin_password == "one"
    path.write_text('ADMIN_PASSWORD = "three"\n')  # another size
    assert get_settings().admin_password == "three"
    os.utime(path, ns=(0, 0))  # same size, another mtime
    path.write_text('ADMIN_PASSWORD = "three"\nCACHE_TTL = 7\n')
    assert get_settings().cache_ttl == 7
    path.unlink()
    assert get_settings().admin_password is None


def test_the_pinned_environment_is_what_counts(monkeypatch):
    monkeypatch.setenv("CACHE_TTL", "5")
    monkeypatch.setattr(settings, "_pinned_env", None)
    settings.pin_environment()
    monkeypatch.setenv("CACHE_TTL", "9")  # what Streamlit does with secrets.toml after the pin
    assert get_settings().cache_ttl == 5
    monkeypatch.setattr(settings, "_pinned_env", None)
    assert get_settings().cache_ttl == 9


def test_an_invalid_setting_stays_an_error_until_fixed(monkeypatch):
    monkeypatch.setenv("POOL_MAX_SIZE", "many")
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"^POOL_MAX_SIZE must be a whole number, got 'many'$"):
            get_settings()
    monkeypatch.setenv("POOL_MAX_SIZE", "3")
    assert get_settings().pool_max_size == 3


NUMBERS = [f for f in fields(settings.Settings) if f.metadata["kind"] in (int, float)]


@pytest.mark.parametrize("f", NUMBERS, ids=[f.name.upper() for f in NUMBERS])
def test_every_number_has_one_parser_and_one_set_of_messages(monkeypatch, f):
    name, kind, minimum = f.name.upper(), f.metadata["kind"], f.metadata["minimum"]
    what = "a whole number" if kind is int else "a number"
    for bad in ("abc", "nan", "1.5" if kind is int else "inf"):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ConfigError, match=rf"^{name} must be {what}, got '{bad}'$"):
            get_settings()
    monkeypatch.setenv(name, str(minimum - 1))
    with pytest.raises(ConfigError, match=rf"^{name} must be (between )?{minimum:g}( or more| and \d+), got "):
        get_settings()
    monkeypatch.setenv(name, str(kind(minimum) + 1))
    assert getattr(get_settings(), f.name) == kind(minimum) + 1


def test_ports_and_flags(monkeypatch):
    monkeypatch.setenv("PORT", "70000")
    with pytest.raises(ConfigError, match="PORT must be between 0 and 65535, got '70000'"):
        get_settings()
    monkeypatch.setenv("PORT", "8502")
    assert get_settings().port == 8502
    for value, on in (("1", True), ("0", False), ("true", False)):  # a flag is on when it is 1, as always
        monkeypatch.setenv("ALLOW_PROD_WRITES", value)
        assert get_settings().allow_prod_writes is on


def test_paths_follow_the_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    s = get_settings()
    assert s.dashboard_data_dir == tmp_path == settings.data_dir()
    assert s.audit_log_file == tmp_path / "audit.jsonl"
    monkeypatch.setenv("AUDIT_LOG_FILE", str(tmp_path / "elsewhere.jsonl"))
    assert get_settings().audit_log_file == tmp_path / "elsewhere.jsonl"


def test_the_repr_of_settings_holds_no_secret(monkeypatch):
    monkeypatch.setenv("CONNECTION_URL", "postgresql://app:Sup3rSecret@db.internal/cruddur")
    for name in ("ADMIN_PASSWORD", "MOMENTO_API_KEY", "EXPORT_SIGNING_KEY"):
        monkeypatch.setenv(name, "Sup3rSecret")
    assert "Sup3rSecret" not in repr(get_settings())


def test_the_momento_defaults_are_the_backends():
    from queries import momento_cache

    defaults = settings.Settings()
    assert defaults.momento_cache_name == momento_cache.DEFAULT_CACHE_NAME
    assert defaults.momento_timeout_ms == momento_cache.DEFAULT_TIMEOUT_S * 1000


APP_CODE = ["db", "queries", "actions", "exports", "seed", "ui", "web", "pages", "serve.py", "app.py", "dashboard.py"]


def test_app_code_reads_settings_through_get_settings_only():
    """No ad hoc reads: raw `setting()` is for the error scrubber alone."""
    offenders = []
    for top in APP_CODE:
        paths = [ROOT / top] if top.endswith(".py") else sorted((ROOT / top).rglob("*.py"))
        for path in paths:
            rel = str(path.relative_to(ROOT))
            if rel in ("db/settings.py", "db/errors.py"):
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\b(number_setting|setting)\(|from db\.settings import[^\n]*\bsetting\b", text):
                offenders.append(rel)
    assert offenders == []


def test_a_stopped_embedded_database_is_named_as_stopped(monkeypatch, tmp_path):
    from db import settings as module

    monkeypatch.delenv("CONNECTION_URL", raising=False)
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="start with `make run`"):
        get_settings().require_url()  # never started here
    module.embedded_url_file(tmp_path).write_text(f"postgresql://postgres@/cruddur?host={tmp_path}/pg")
    with pytest.raises(ConfigError, match="`make run` started is not running now"):
        get_settings().require_url()  # started once, its server gone (no postmaster.pid)
