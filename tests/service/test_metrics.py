"""The Prometheus endpoint of a real server (`--metrics-listen`), read with real HTTP GETs after
real RPCs: counts by status code, latency histograms, in-flight RPCs, the database pool and
the SQL gateway's counters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from integrations.v1 import integrations_pb2 as pb
from integrations.v1 import integrations_pb2_grpc, sql_gateway_pb2_grpc
from integrations.v1 import sql_gateway_pb2 as sql_pb
from service.metrics import ServiceMetrics
from tests.conftest import serve_config
from tests.customer_database import CustomerDatabase, customer_database
from tests.fake_provider import fake_provider
from tests.service.integrations_helpers import create_integration
from tests.service.servers import started
from tests.service.test_health import KEY_ENV, SECRET, SETTINGS, Client
from tests.support import RunningServer

INTEGRATIONS = "integrations.v1.IntegrationsService"
SQL_GATEWAY = "integrations.v1.SqlGatewayService"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def metered(
    database_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningServer]:
    """A started server with metrics on a free loopback port (and a provider key for probes)."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    # No readiness pings or webhook delivery rounds after start: they would borrow pool
    # connections mid-test (the deliverer's first round at start is waited out by `_pool_reads`).
    config = serve_config(database_url, metrics_listen="127.0.0.1:0", health=SETTINGS,
                          readiness_interval_seconds=3600, limit_event_poll_seconds=3600)
    async with started(config, backend) as server:
        yield server


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


async def _get(server: RunningServer, path: str = "/metrics", method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.request(method, f"http://127.0.0.1:{server.app.metrics_port}{path}")


async def _scrape(server: RunningServer) -> Samples:
    response = await _get(server)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def _pool_reads(server: RunningServer, expected: int) -> float | None:
    """The pool gauge once it reads `expected`, or its last reading after a few seconds: the
    background tasks' round at start borrows a connection for a moment."""
    reading = None
    for _ in range(50):
        reading = _value(await _scrape(server), "integrations_db_pool_in_use")
        if reading == expected:
            break
        await asyncio.sleep(0.1)
    return reading


async def test_rpcs_are_counted_by_code_timed_and_leave_nothing_in_flight(
    metered: RunningServer, tenant: str
) -> None:
    stub = metered.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    created = await create_integration(stub, tenant)
    await stub.GetIntegration(pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id))
    for integration_id in ("not-a-uuid", "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetIntegration(
                pb.GetIntegrationRequest(tenant_id=tenant, integration_id=integration_id)
            )

    samples = await _scrape(metered)
    get = {"grpc_type": "unary", "grpc_service": INTEGRATIONS, "grpc_method": "GetIntegration"}
    handled = "grpc_server_handled_total"
    assert _value(samples, handled, **get, grpc_code="OK") == 1
    assert _value(samples, handled, **get, grpc_code="InvalidArgument") == 1
    assert _value(samples, handled, **get, grpc_code="NotFound") == 1
    create = {"grpc_type": "unary", "grpc_service": INTEGRATIONS, "grpc_method": "CreateIntegration"}
    assert _value(samples, handled, **create, grpc_code="OK") == 1
    assert _value(samples, "grpc_server_started_total", **get) == 3
    assert _value(samples, "grpc_server_msg_received_total", **get) == 3
    assert _value(samples, "grpc_server_msg_sent_total", **get) == 1  # failures send no message
    assert _value(samples, "grpc_server_handling_seconds_count", **get) == 3
    buckets = {dict(labels)["le"]: value for (name, labels), value in samples.items()
               if name == "grpc_server_handling_seconds_bucket" and ("grpc_method", "GetIntegration")
               in labels}
    assert {"0.001", "0.1", "30.0", "+Inf"} <= set(buckets)
    assert buckets["+Inf"] == 3
    in_flight = [value for (name, _), value in samples.items() if name == "grpc_server_in_flight"]
    assert in_flight and all(value == 0 for value in in_flight)
    assert await _pool_reads(metered, 0) == 0


async def test_the_pool_gauge_is_read_when_scraped(metered: RunningServer) -> None:
    async with metered.app.database.transaction():
        assert await _pool_reads(metered, 1) == 1
    assert await _pool_reads(metered, 0) == 0


async def test_pool_waits_are_timed_per_pool(metered: RunningServer, tenant: str) -> None:
    before = await _scrape(metered)
    stub = metered.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    created = await create_integration(stub, tenant)  # a transaction
    await stub.GetIntegration(pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id))
    after = await _scrape(metered)
    name = "integrations_db_pool_wait_seconds_count"
    for pool in ("transaction", "read"):
        assert (_value(after, name, pool=pool) or 0) > (_value(before, name, pool=pool) or 0)


async def test_sql_gateway_rows_bytes_truncations_and_timeouts_are_counted(
    metered: RunningServer, tenant: str, customer: CustomerDatabase
) -> None:
    stub = metered.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)
    for template_id, sql, timeout in (
        ("numbers", "SELECT n FROM numbers ORDER BY n LIMIT 10", 0),
        ("slow", "SELECT pg_sleep(20)", 1),
    ):
        await stub.CreateQueryTemplate(sql_pb.CreateQueryTemplateRequest(
            tenant_id=tenant,
            template=sql_pb.QueryTemplate(id=template_id, name=template_id, sql=sql,
                                          max_rows=4 if template_id == "numbers" else 0,
                                          timeout_seconds=timeout),
        ))
    gateway = await stub.CreateGateway(sql_pb.CreateGatewayRequest(
        tenant_id=tenant,
        gateway=sql_pb.Gateway(name="warehouse", connection_string_ref=customer.ref,
                               allowed_template_ids=["numbers", "slow"]),
    ))
    before = await _scrape(metered)

    def execute(template_id: str) -> sql_pb.ExecuteQueryRequest:
        return sql_pb.ExecuteQueryRequest(
            tenant_id=tenant, gateway_id=gateway.id, template_id=template_id
        )

    first = await stub.ExecuteQuery(execute("numbers"))
    second = await stub.ExecuteQuery(execute("numbers"))
    with pytest.raises(grpc.aio.AioRpcError) as slow:
        await stub.ExecuteQuery(execute("slow"))
    assert slow.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    after = await _scrape(metered)

    def moved(name: str, **labels: str) -> float:
        return (_value(after, name, **labels) or 0) - (_value(before, name, **labels) or 0)

    assert first.truncated and first.row_count == 4
    assert moved("integrations_sql_gateway_queries_total") == 2
    assert moved("integrations_sql_gateway_rows_total") == 8
    assert moved("integrations_sql_gateway_result_bytes_total") == (
        first.result_bytes + second.result_bytes
    )
    assert moved("integrations_sql_gateway_truncations_total", reason="max_rows") == 2
    assert moved("integrations_sql_gateway_truncations_total", reason="max_result_bytes") == 0
    assert moved("integrations_sql_gateway_timeouts_total") == 1
    execute_query = {"grpc_type": "unary", "grpc_service": SQL_GATEWAY, "grpc_method": "ExecuteQuery"}
    assert moved("grpc_server_handled_total", **execute_query, grpc_code="DeadlineExceeded") == 1


async def test_probe_outcomes_are_counted_by_provider_and_state(
    metered: RunningServer, tenant: str
) -> None:
    client = Client(metered, tenant)
    async with fake_provider() as provider:
        healthy = await client.add("ok", {"base_url": provider.route("ok")})
        refused = await client.add("refused", {"base_url": provider.route("no", 401)})
        await client.check(healthy)
        await client.check(healthy)  # within the minimum interval: cached, not probed
        await client.check(refused)
    samples = await _scrape(metered)
    probes = "integrations_health_probes_total"
    assert _value(samples, probes, provider="openai", state="healthy") == 1
    assert _value(samples, probes, provider="openai", state="unhealthy") == 1
    assert _value(samples, "integrations_health_probe_seconds_count", provider="openai") == 2


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/", 404, id="other-path"),
        pytest.param("POST", "/metrics", 405, id="post"),
        pytest.param("HEAD", "/metrics", 200, id="head"),
    ],
)
async def test_the_endpoint_serves_only_get_metrics(
    metered: RunningServer, method: str, path: str, status: int
) -> None:
    response = await _get(metered, path, method)
    assert response.status_code == status
    if method == "HEAD":
        assert response.content == b""
        assert int(response.headers["content-length"]) > 0


async def test_metrics_are_off_by_default(server: RunningServer) -> None:
    assert server.app.metrics_port == 0


def test_each_application_has_its_own_registry() -> None:
    async def no_connections() -> int:
        return 0

    first, second = ServiceMetrics(no_connections), ServiceMetrics(no_connections)
    first.query_timed_out()
    assert first.registry is not second.registry
    assert first.registry.get_sample_value("integrations_sql_gateway_timeouts_total") == 1
    assert second.registry.get_sample_value("integrations_sql_gateway_timeouts_total") == 0
