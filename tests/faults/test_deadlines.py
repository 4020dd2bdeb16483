"""A client deadline shorter than the work cancels the work on the server: a health probe waiting
on a slow provider drops its connection, a `pg_sleep(30)` behind the SQL gateway stops running in
PostgreSQL, and the server's asyncio tasks and database pool return to their idle counts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest

from integrations.v1 import health_pb2, health_pb2_grpc, sql_gateway_pb2_grpc
from integrations.v1 import sql_gateway_pb2 as pb
from tests.customer_database import CustomerDatabase, customer_database
from tests.faults.slow_provider import (
    PROVIDER_KEY,
    PROVIDER_KEY_VARIABLE,
    create_slow_integration,
    slow_http_server,
)
from tests.support import RunningServer

CLIENT_DEADLINE = 0.5
SETTLE_SECONDS = 3.0  # how long cancelled work may take to unwind before the test fails


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture(autouse=True)
def provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PROVIDER_KEY_VARIABLE, PROVIDER_KEY)


async def _settled(check: object, what: str) -> None:
    """Polls `check()` (an async predicate) until true; fails after SETTLE_SECONDS."""
    try:
        async with asyncio.timeout(SETTLE_SECONDS):
            while not await check():  # type: ignore[operator]
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"not back to idle within {SETTLE_SECONDS}s: {what}")


def _task_count() -> int:
    return len(asyncio.all_tasks())


async def test_probe_past_the_deadline_is_cancelled(server: RunningServer, tenant: str) -> None:
    async with slow_http_server(delay=30.0) as provider:
        integration_id = await create_slow_integration(server.channel, tenant, provider.base_url)
        stub = server.stub(health_pb2_grpc.IntegrationHealthServiceStub)
        baseline_tasks = _task_count()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CheckHealth(
                health_pb2.CheckHealthRequest(
                    tenant_id=tenant, integration_id=integration_id, force=True
                ),
                timeout=CLIENT_DEADLINE,
            )
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert provider.received == 1

        async def idle() -> bool:
            return (
                provider.open_connections == 0
                and _task_count() <= baseline_tasks
                and await server.app.database.pool_in_use() == 0
            )

        await _settled(idle, "probe connection, tasks or pool")
        assert provider.answered == 0  # abandoned, not waited out


async def _active_gateway_queries(customer: CustomerDatabase) -> int:
    count = await customer.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' "
        "AND application_name = 'integrations-sql-gateway'",
        customer.name,
    )
    return int(count)  # type: ignore[call-overload]


async def test_query_past_the_deadline_is_cancelled_in_postgres(
    server: RunningServer, tenant: str, customer: CustomerDatabase
) -> None:
    stub = server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)
    await stub.CreateQueryTemplate(
        pb.CreateQueryTemplateRequest(
            tenant_id=tenant,
            template=pb.QueryTemplate(
                id="sleep-30", name="sleep", sql="SELECT pg_sleep(30) AS slept", read_only=True
            ),
        )
    )
    gateway = await stub.CreateGateway(
        pb.CreateGatewayRequest(
            tenant_id=tenant,
            gateway=pb.Gateway(
                name="slow", connection_string_ref=customer.ref,
                allowed_template_ids=["sleep-30"], timeout_seconds=60,
            ),
        )
    )
    request = pb.ExecuteQueryRequest(tenant_id=tenant, gateway_id=gateway.id, template_id="sleep-30")
    baseline_tasks = _task_count()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ExecuteQuery(request, timeout=CLIENT_DEADLINE)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    async def idle() -> bool:
        return (
            await _active_gateway_queries(customer) == 0
            and _task_count() <= baseline_tasks
            and await server.app.database.pool_in_use() == 0
        )

    await _settled(idle, "pg_sleep still running, or tasks/pool not released")
    # The pooled connection is still usable afterwards: the cancel did not poison the pool.
    sessions = await customer.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
        "AND application_name = 'integrations-sql-gateway'",
        customer.name,
    )
    assert int(sessions) <= 1  # type: ignore[call-overload]
