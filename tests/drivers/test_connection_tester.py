"""The network connection tester against real loopback targets and the local PostgreSQL."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.engine import make_url

from drivers.connectors.connection_tester import NetworkConnectionTester, _classify
from engines.connectors.connection_tester import PostgresTarget, SslMode
from tests.loopback_targets import closed_port, http_target, silent_target
from tests.support import loopback_guard

tester = NetworkConnectionTester(egress=loopback_guard())


@pytest.mark.parametrize(
    ("status", "success", "error_code"),
    [
        pytest.param(200, True, "", id="200"),
        pytest.param(204, True, "", id="204"),
        pytest.param(302, True, "", id="redirect-not-followed"),
        pytest.param(401, False, "auth_failed", id="401"),
        pytest.param(403, False, "auth_failed", id="403"),
        pytest.param(404, False, "http_status", id="404"),
        pytest.param(503, False, "http_status", id="503"),
    ],
)
async def test_http_get_judges_the_status(status: int, success: bool, error_code: str) -> None:
    async with http_target(status) as target:
        outcome = await tester.http_get(
            target.url, timeout=5, headers={"Authorization": "Bearer t0k"}
        )
    assert outcome.success is success
    assert outcome.error_code == error_code
    assert outcome.details["http_status"] == status
    assert len(target.requests) == 1
    assert target.requests[0]["request-line"] == "GET /health HTTP/1.1"
    assert target.requests[0]["authorization"] == "Bearer t0k"
    if not success:
        assert f"HTTP {status}" in outcome.error and target.address in outcome.error


async def test_http_get_to_a_closed_port_is_refused() -> None:
    port = closed_port()
    outcome = await tester.http_get(f"http://127.0.0.1:{port}/", timeout=5)
    assert not outcome.success
    assert outcome.error_code == "refused"
    assert f"127.0.0.1:{port}" in outcome.error


async def test_http_get_to_a_silent_server_times_out() -> None:
    async with silent_target() as port:
        outcome = await tester.http_get(f"http://127.0.0.1:{port}/", timeout=0.3)
    assert not outcome.success
    assert outcome.error_code == "timed_out"
    assert "within 0.3 s" in outcome.error


async def test_http_get_to_a_server_speaking_another_protocol() -> None:
    async with silent_target(greeting=b"SSH-2.0-OpenSSH_9.2\r\n\r\n") as port:
        outcome = await tester.http_get(f"http://127.0.0.1:{port}/", timeout=5)
    assert (outcome.success, outcome.error_code) == (False, "protocol_error")


async def test_tcp_connect_succeeds_and_is_refused() -> None:
    async with silent_target() as port:
        reached = await tester.tcp_connect("127.0.0.1", port, timeout=5)
    refused = await tester.tcp_connect("127.0.0.1", closed_port(), timeout=5)
    assert reached.success and reached.details["method"] == "tcp_connect"
    assert not refused.success and refused.error_code == "refused"


def _dsn(url: str, **changes: object) -> str:
    return make_url(url).set(drivername="postgresql", **changes).render_as_string(
        hide_password=False
    )


async def test_postgres_select_one(postgres_admin_url: str) -> None:
    outcome = await tester.postgres_select_one(
        PostgresTarget(_dsn(postgres_admin_url), SslMode.DISABLE), timeout=5
    )
    assert outcome.success, outcome.error
    assert outcome.details["result"] == 1


@pytest.mark.parametrize(
    ("changes", "ssl", "error_code"),
    [
        pytest.param({"username": "no_such_role_x9"}, SslMode.DISABLE, "auth_failed", id="role"),
        pytest.param({"database": "no_such_db_x9"}, SslMode.DISABLE, "database_error", id="db"),
        # The local server runs without TLS, so requiring it must fail rather than downgrade.
        pytest.param({}, SslMode.REQUIRE, "tls", id="ssl-required"),
    ],
)
async def test_postgres_failures_are_classified(
    postgres_admin_url: str, changes: dict[str, str], ssl: SslMode, error_code: str
) -> None:
    outcome = await tester.postgres_select_one(
        PostgresTarget(_dsn(postgres_admin_url, **changes), ssl), timeout=5
    )
    assert not outcome.success
    assert outcome.error_code == error_code, outcome.error


async def test_postgres_on_a_closed_port_is_refused_without_echoing_the_password() -> None:
    port = closed_port()
    outcome = await tester.postgres_select_one(
        PostgresTarget(f"postgresql://u:Hunter2Secret@127.0.0.1:{port}/db"), timeout=5
    )
    assert outcome.error_code == "refused"
    assert "Hunter2Secret" not in outcome.error and "Hunter2Secret" not in repr(outcome)


def test_dns_failures_are_named() -> None:
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    code, message = _classify(error, "db.invalid:5432", 10)
    assert code == "dns" and "DNS" in message
