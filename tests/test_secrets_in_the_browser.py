"""Finding 1 end to end: the real `make run` launcher (serve.py) and a real browser page.

For three connection-string forms that the old masking got wrong, the launcher's
whole log (Streamlit's included) and every page a visitor and an admin see hold
no trace of the password, while the app really serves from that connection.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from urllib.parse import quote

import pytest

from db import conninfo
from tests.browser import browser, free_port, visible_errors, wait_for_app
from tests.conftest import _ISOLATED, ROOT
from tests.helpers import ctrl_c_reaches_it
from tests.test_conninfo import FORMS, render

pytestmark = pytest.mark.browser

CHOSEN = ("query-string", "question-mark", "dsn-quoted-space")


def serve(url: str, tmp_path, port: int) -> tuple[subprocess.Popen, object]:
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATED}
    env.update(
        CONNECTION_URL=url,
        PORT=str(port),
        ADMIN_PASSWORD="e2e-admin-pw",
        DASHBOARD_SECRETS_FILE=str(tmp_path / "none.toml"),
        DASHBOARD_DATA_DIR=str(tmp_path / "data"),
        PYTHONUNBUFFERED="1",
    )
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "serve.py")],
        cwd=ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        preexec_fn=ctrl_c_reaches_it,
    )
    deadline = time.monotonic() + 90
    while "dashboard on http://" not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.3)
    return proc, log


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.mark.parametrize("name, secret, form", [f for f in FORMS if f[0] in CHOSEN], ids=list(CHOSEN))
def test_no_secret_in_the_launchers_log_or_on_any_page(name, secret, form, db_url, tmp_path, chromium):
    p = conninfo.parse(db_url)
    url = render(form, secret, sock=p["host"], db=p["dbname"])
    port = free_port()
    proc, log = serve(url, tmp_path, port)
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        texts = []
        for path in ("", "sessions", "explore", "admin"):
            page.goto(f"http://127.0.0.1:{port}/{path}")
            page.get_by_test_id("stSidebar").wait_for(timeout=30_000)
            wait_for_app(page)
            assert visible_errors(page) == [], path
            texts.append(page.inner_text("body"))
        assert "Database (" not in texts[0] and "postgresql://" not in texts[0]  # connection details: admins only
        page.get_by_label("Admin password").fill("e2e-admin-pw")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Message").wait_for(timeout=30_000)
        wait_for_app(page)
        texts.append(page.inner_text("body"))
        assert f"postgresql://postgres@/{p['dbname']}" in texts[-1]  # an admin sees where it points
        for text in texts + [page.content()]:
            assert secret not in text and quote(secret, safe="") not in text
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as resp:
            assert resp.read() == b"ok"
    finally:
        page.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    text = log.read_text()
    assert f"using CONNECTION_URL = postgresql://postgres@/{p['dbname']}" in text
    assert secret not in text and quote(secret, safe="") not in text and "Traceback" not in text
