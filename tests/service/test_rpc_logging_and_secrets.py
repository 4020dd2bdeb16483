"""Per-RPC log lines, error hygiene, and that a refused raw key is never stored, logged or echoed."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from drivers.kernel.database import Database
from integrations.v1 import integrations_pb2 as pb
from integrations.v1 import integrations_pb2_grpc
from service.logs import JsonFormatter
from tests.conftest import serve_config
from tests.secrets_registry import register_secret
from tests.service.integrations_helpers import create_integration
from tests.service.servers import started
from tests.support import RunningServer

RAW_KEY = register_secret("sk-live-RAWKEY-4f9a1c7e2b8d0a6f3e5c9b1d7a2e4f60")


def _log_text(records: list[logging.LogRecord]) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) for r in records)


async def _all_rows_text(database_url: str) -> str:
    database = Database(database_url)
    try:
        async with database.transaction() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            dump = []
            for name in names:
                rows = (await conn.execute(sa.text(f'SELECT * FROM "{name}"'))).all()
                dump.extend(repr(tuple(r)) for r in rows)
    finally:
        await database.dispose()
    return "\n".join(dump)


async def test_refused_raw_key_appears_in_no_response_log_or_row(
    server: RunningServer, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    echoes = []
    with pytest.raises(grpc.aio.AioRpcError) as create_error:
        await create_integration(stub, tenant, "leaky", credential_ref=RAW_KEY)
    echoes.append(create_error.value)
    created = await create_integration(stub, tenant, "fine")
    with pytest.raises(grpc.aio.AioRpcError) as update_error:
        await stub.UpdateIntegration(
            pb.UpdateIntegrationRequest(
                tenant_id=tenant, integration=pb.Integration(id=created.id, credential_ref=RAW_KEY)
            )
        )
    echoes.append(update_error.value)
    for error in echoes:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert RAW_KEY not in (error.details() or "")
        assert RAW_KEY.encode() not in b"".join(v if isinstance(v, bytes) else v.encode()
                                                for _, v in error.trailing_metadata())
    listed = await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant))
    assert RAW_KEY not in str(listed)
    assert RAW_KEY not in _log_text(caplog.records)
    assert RAW_KEY not in await _all_rows_text(server.database_url)
    if server.backend == "sqlite":
        path = Path(make_url(server.database_url).database or "")
        for file in path.parent.glob(path.name + "*"):
            assert RAW_KEY.encode() not in file.read_bytes(), file


async def test_each_rpc_logs_one_structured_line_without_the_body(
    server: RunningServer, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="integrations.rpc")
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    await create_integration(stub, tenant, "logged-name-xyz", metadata=(("x-request-id", "r-77"),))
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetIntegration(
            pb.GetIntegrationRequest(tenant_id=tenant, integration_id="not-a-uuid")
        )
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records
             if r.name == "integrations.rpc"]
    assert [(line["method"], line["code"]) for line in lines] == [
        ("/integrations.v1.IntegrationsService/CreateIntegration", "OK"),
        ("/integrations.v1.IntegrationsService/GetIntegration", "INVALID_ARGUMENT"),
    ]
    for line in lines:
        assert line["tenant_id"] == tenant
        assert line["caller"] == "anonymous"
        assert isinstance(line["duration_ms"], float)
    assert lines[0]["request_id"] == "r-77"
    assert "logged-name-xyz" not in _log_text(caplog.records)


@pytest.fixture
async def quiet_server(database_url: str, backend: str) -> AsyncIterator[RunningServer]:
    """A started server whose background rounds (readiness pings, webhook delivery) stay
    quiet after start, so the test alone borrows pool connections."""
    config = serve_config(database_url, readiness_interval_seconds=3600,
                          limit_event_poll_seconds=3600)
    async with started(config, backend) as server:
        yield server


async def test_unexpected_errors_become_internal_without_details(
    quiet_server: RunningServer, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = quiet_server
    caplog.set_level(logging.ERROR)
    stub = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    # Fresh connections, so no statement prepared against the table survives its rename; once
    # every borrowed connection is back (a pool disposed under a borrower leaks its socket).
    await server.app.database.dispose()
    # Break storage in a way the service does not anticipate: drop the table under it.
    database = Database(server.database_url)
    try:
        async with database.transaction() as conn:
            await conn.execute(sa.text("ALTER TABLE usage_events RENAME TO usage_events_moved"))
        created = await create_integration(stub, tenant)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.GetLimitsStatus(
                pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
            )
    finally:
        async with database.transaction() as conn:
            await conn.execute(sa.text("ALTER TABLE usage_events_moved RENAME TO usage_events"))
        await database.dispose()
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "usage_events" not in (caught.value.details() or "")
    assert "Traceback" not in (caught.value.details() or "")
    assert any("GetLimitsStatus" in r.getMessage() for r in caplog.records)
