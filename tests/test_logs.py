"""The server log (db/logs.py): what is caught and counted is also logged, without secrets."""

from __future__ import annotations

import io
import logging

import pytest
from streamlit.testing.v1 import AppTest

from db import logs

SECRET = "Sup3r-s3cret-pw"


@pytest.fixture
def own_handler():
    """configure() for this test only: its handler writes to a buffer and is removed afterwards."""
    root = logging.getLogger(logs.ROOT_NAME)
    before_level, before = root.level, list(root.handlers)
    logs.configure()
    [handler] = [h for h in root.handlers if isinstance(h, logs._Handler)]
    buffer = io.StringIO()
    handler.setStream(buffer)
    yield buffer
    root.handlers[:] = before
    root.setLevel(before_level)


def test_configure_installs_one_timestamped_handler_on_the_cruddur_logger(own_handler):
    logs.configure()  # again: still one handler
    root = logging.getLogger("cruddur")
    assert len([h for h in root.handlers if isinstance(h, logs._Handler)]) == 1
    assert root.level == logging.INFO and root.propagate
    assert not any(isinstance(h, logs._Handler) for h in logging.getLogger().handlers)  # the root is left alone
    logging.getLogger("cruddur.sql").debug("not shown at INFO")
    logging.getLogger("cruddur.test").info("shown")
    lines = own_handler.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].endswith("INFO cruddur.test: shown")
    assert lines[0][:4].isdigit()  # starts with the time


def test_the_filter_scrubs_a_password_from_message_and_traceback(monkeypatch, caplog, own_handler):
    url = f"postgresql://dash:{SECRET}@db.example.com:5432/cruddur"
    monkeypatch.setenv("CONNECTION_URL", url)
    log = logs.logger("cruddur.test")
    with caplog.at_level(logging.INFO, logger="cruddur"):
        try:
            raise ConnectionError(f"could not use password={SECRET} for {url}")
        except ConnectionError:
            log.warning("connecting to %s failed (%s)", url, SECRET, exc_info=True)
    [record] = caplog.records
    assert record.exc_info  # the traceback is kept, as text without the secret
    assert "Traceback" in caplog.text and "Traceback" in own_handler.getvalue()
    for text in (record.getMessage(), record.exc_text, caplog.text, own_handler.getvalue()):
        assert SECRET not in text
    assert "postgresql://dash@db.example.com:5432/cruddur" in record.getMessage()


def test_the_handler_scrubs_records_of_loggers_made_without_the_filter(monkeypatch, own_handler):
    monkeypatch.setenv("PGPASSWORD", SECRET)
    logging.getLogger("cruddur.elsewhere").warning("pw is %s", SECRET)
    assert SECRET not in own_handler.getvalue() and "pw is ***" in own_handler.getvalue()


def test_a_failed_rollup_refresh_is_logged(db, monkeypatch, caplog):
    from actions import rollup
    from queries import reads

    def broken(**options):
        raise RuntimeError("rollup went wrong")

    monkeypatch.setattr(rollup, "refresh", broken)
    with caplog.at_level(logging.WARNING, logger="cruddur"):
        assert rollup.refresh_in_background("test-failed-rollup-refresh")
        assert rollup.wait_idle(10)
    assert reads.stats.errors["rollup"] == 1
    [record] = [r for r in caplog.records if r.name == "cruddur.rollup"]
    assert record.exc_info and "rollup went wrong" in record.getMessage()


def _failing_page():
    from ui.common import database_guard

    with database_guard("the test page"):
        raise ValueError("something broke")


def test_a_page_failure_shows_a_plain_message_and_logs_the_traceback(db, caplog):
    with caplog.at_level(logging.WARNING, logger="cruddur"):
        at = AppTest.from_function(_failing_page, default_timeout=30).run()
    assert not at.exception
    assert "Could not load the test page." in at.error[0].value and "Traceback" not in at.error[0].value
    [record] = [r for r in caplog.records if r.name == "cruddur.page"]
    assert record.exc_info and record.exc_info[0] is ValueError
    assert "the test page failed" in record.getMessage()


def test_every_logger_of_ours_goes_through_the_scrubbing_filter():
    """One way to get a logger (db.logs.logger): no module of ours calls logging.getLogger or
    Streamlit's get_logger for its own log lines."""
    import re

    from tests.conftest import ROOT

    offenders = []
    for folder in ("db", "queries", "actions", "exports", "seed", "web", "ui", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "logs.py":
                continue
            for line in path.read_text().splitlines():
                if re.search(r"=\s*logging\.getLogger\(|get_logger\(", line):  # our own loggers, not a library's level
                    offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert offenders == []
