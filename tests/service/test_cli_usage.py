"""The command line as the README shows it, run as real processes: logging flags after the
command, `--version`, one-line errors for a database that is missing or unreachable, and
`healthcheck` over plaintext, TLS and mutual TLS."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.bench.harness import ServerProcess, free_port
from tests.conftest import serve_config
from tests.service.servers import started
from tests.tls_files import write_pem_files

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    return line


def test_version() -> None:
    result = _cli("--version")
    assert result.returncode == 0
    version = importlib.metadata.version("integrations-service")
    assert result.stdout.strip() == f"integrations-service {version}"


def test_logging_flags_after_the_command(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    text = _cli("migrate", "--database-url", db, "--log-format", "text")
    assert text.returncode == 0, text.stderr
    assert " INFO integrations.server migrations applied" in text.stderr
    assert "{" not in text.stderr.splitlines()[-1]
    quiet = _cli("--log-level", "INFO", "migrate", "--database-url", db, "--log-level", "WARNING")
    assert quiet.returncode == 0 and "migrations applied" not in quiet.stderr  # the last one wins


async def test_serve_takes_the_readme_logging_flags(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    server = ServerProcess(f"sqlite:///{tmp_path / 's.db'}", "--log-format", "text",
                           "--log-level", "INFO", log_path=log)
    async with server:
        pass
    assert f"INFO integrations.server serving on {server.address}" in log.read_text()


def test_missing_postgres_database_is_one_line(postgres_admin_url: str) -> None:
    name = f"missing_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_admin_url).set(drivername="postgresql", database=name)
    result = _cli("serve", "--listen", "127.0.0.1:0", "--log-level", "ERROR",
                  "--database-url", url.render_as_string(hide_password=False))
    if "cannot reach" in result.stderr:
        pytest.skip("PostgreSQL is not reachable")
    line = _one_error_line(result)
    assert f"database '{name}' does not exist" in line
    assert f"createdb -h {url.host} -p {url.port or 5432}" in line


def test_unreachable_database_server_is_one_line() -> None:
    port = free_port()  # nothing listens there
    result = _cli("migrate", "--log-level", "ERROR",
                  "--database-url", f"postgresql://postgres@127.0.0.1:{port}/db")
    assert f"cannot reach the PostgreSQL server at 127.0.0.1:{port}" in _one_error_line(result)


def test_unresolvable_database_host_is_one_line() -> None:
    result = _cli("migrate", "--log-level", "ERROR",
                  "--database-url", "postgresql://postgres@db.invalid/db")
    assert "cannot resolve the database host 'db.invalid'" in _one_error_line(result)


def test_healthcheck_of_an_unreachable_server_is_one_line() -> None:
    result = _cli("healthcheck", "--target", f"127.0.0.1:{free_port()}", "--timeout", "1")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "UNAVAILABLE" in result.stderr


async def _healthcheck(*args: str, env: dict[str, str] | None = None
                       ) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_cli, "healthcheck", "--timeout", "5", *args, env=env)


def _dockerfile_healthcheck() -> tuple[list[str], float]:
    """The Dockerfile HEALTHCHECK's command and its --timeout in seconds."""
    match = re.search(r"^HEALTHCHECK (.*?)\\\n\s+CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert match, "Dockerfile has no exec-form HEALTHCHECK"
    timeout = re.search(r"--timeout=(\d+)s", match.group(1))
    assert timeout
    return json.loads(match.group(2)), float(timeout.group(1))


@pytest.mark.parametrize("mutual", [pytest.param(False, id="tls"), pytest.param(True, id="mtls")])
async def test_healthcheck_over_tls(database_url: str, tmp_path: Path, mutual: bool) -> None:
    write_pem_files(tmp_path, server_name="integrations.internal")
    ca, cert, key = (str(tmp_path / n) for n in ("ca.pem", "client.pem", "client.key"))
    config = serve_config(
        database_url, tls_cert=str(tmp_path / "server.pem"), tls_key=str(tmp_path / "server.key"),
        tls_client_ca=ca if mutual else None,
    )
    async with started(config) as server:
        target = f"127.0.0.1:{server.app.port}"
        client = ["--tls-cert", cert, "--tls-key", key] if mutual else []
        ok = await _healthcheck("--target", target, "--tls-ca", ca, *client,
                                "--tls-server-name", "integrations.internal")
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == f"{target}: SERVING"
        wrong_name = await _healthcheck("--target", target, "--tls-ca", ca, *client,
                                        "--tls-server-name", "other.example")
        assert wrong_name.returncode == 1
        plaintext = await _healthcheck("--target", target)
        assert plaintext.returncode == 1 and "UNAVAILABLE" in plaintext.stderr
        if mutual:
            no_client_cert = await _healthcheck("--target", target, "--tls-ca", ca)
            assert no_client_cert.returncode == 1
        # The image's HEALTHCHECK as written, pointed at this server, TLS from the environment
        # variables the Dockerfile names.
        command, docker_timeout = _dockerfile_healthcheck()
        assert command[:2] == ["integrations-service", "healthcheck"]
        flags = command[1:]
        assert float(flags[flags.index("--timeout") + 1]) < docker_timeout
        env = {"INTEGRATIONS_HEALTHCHECK_TLS_CA": ca,
               "INTEGRATIONS_HEALTHCHECK_TLS_SERVER_NAME": "integrations.internal"}
        if mutual:
            env |= {"INTEGRATIONS_HEALTHCHECK_TLS_CERT": cert,
                    "INTEGRATIONS_HEALTHCHECK_TLS_KEY": key}
        docker = await asyncio.to_thread(_cli, *flags, "--target", target, env=env)
        assert docker.returncode == 0, docker.stderr
