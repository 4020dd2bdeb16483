"""IntegrationHealthService and IntegrationsService.TestCredentials end to end: a real server
on each backend probing a real local HTTP server."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import duration_pb2

from drivers.kernel.database import Database
from drivers.tables.health import health_checks
from drivers.tables.integrations import integrations
from engines.health.checks import HealthSettings
from integrations.v1 import (
    common_pb2,
    health_pb2,
    health_pb2_grpc,
    integrations_pb2,
    integrations_pb2_grpc,
)
from service.bootstrap import create_server
from service.convert import to_struct
from tests.conftest import serve_config
from tests.fake_provider import FakeProvider, fake_provider
from tests.secrets_registry import register_secret
from tests.support import RunningServer, rich_error

SECRET = register_secret("sk-live-" + uuid.uuid4().hex)
KEY_ENV = "DEV_HEALTH_TEST_PROVIDER_KEY"
REF = f"env://{KEY_ENV}"
# Generous margins: these machines are shared and busy.
SETTINGS = HealthSettings(slow_after_ms=500, connect_timeout_seconds=2, read_timeout_seconds=2.0)
S = common_pb2


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    async with fake_provider() as running:
        yield running


@pytest.fixture
async def health_server(
    database_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningServer]:
    """A started server with short probe timeouts; the provider key is in the environment."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    app = await create_server(serve_config(database_url, health=SETTINGS))
    await app.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
    try:
        yield RunningServer(app=app, channel=channel, database_url=database_url, backend=backend)
    finally:
        await channel.close()
        await app.stop(0)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class Client:
    """Stubs of both services for one tenant."""

    def __init__(self, server: RunningServer, tenant: str) -> None:
        self.tenant = tenant
        self.integrations = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
        self.health = server.stub(health_pb2_grpc.IntegrationHealthServiceStub)

    async def add(
        self, name: str, config: dict[str, Any], *, ref: str = REF, enable: bool = True,
        provider_type: int = integrations_pb2.PROVIDER_TYPE_OPENAI,
    ) -> str:
        created = await self.integrations.CreateIntegration(
            integrations_pb2.CreateIntegrationRequest(
                tenant_id=self.tenant,
                integration=integrations_pb2.Integration(
                    name=name, provider_type=provider_type, credential_ref=ref,
                    config=to_struct(config), default_model="m1",
                ),
            )
        )
        if enable:
            await self.integrations.EnableIntegration(
                integrations_pb2.EnableIntegrationRequest(
                    tenant_id=self.tenant, integration_id=created.id
                )
            )
        return str(created.id)

    async def check(self, integration_id: str, force: bool = False) -> health_pb2.HealthCheckResult:
        return await self.health.CheckHealth(
            health_pb2.CheckHealthRequest(
                tenant_id=self.tenant, integration_id=integration_id, force=force
            )
        )

    def check_all(self, **fields: Any) -> Any:
        return self.health.CheckAllIntegrations(
            health_pb2.CheckAllIntegrationsRequest(tenant_id=self.tenant, **fields)
        )

    async def summary(self) -> health_pb2.GetHealthSummaryResponse:
        return await self.health.GetHealthSummary(
            health_pb2.GetHealthSummaryRequest(tenant_id=self.tenant)
        )

    async def stored(self, integration_id: str) -> integrations_pb2.GetHealthStatusResponse:
        return await self.integrations.GetHealthStatus(
            integrations_pb2.GetHealthStatusRequest(
                tenant_id=self.tenant, integration_id=integration_id
            )
        )

    async def test_credentials(self, integration_id: str) -> integrations_pb2.TestCredentialsResponse:
        return await self.integrations.TestCredentials(
            integrations_pb2.TestCredentialsRequest(
                tenant_id=self.tenant, integration_id=integration_id
            )
        )


async def test_every_state_and_error_code(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    cases = {
        "ok": ({"base_url": provider.route("ok")}, REF, S.HEALTH_STATE_HEALTHY, ""),
        "slow": ({"base_url": provider.route("slow", delay=0.9)}, REF, S.HEALTH_STATE_DEGRADED, "slow"),
        "401": ({"base_url": provider.route("a", 401)}, REF, S.HEALTH_STATE_UNHEALTHY, "auth_failed"),
        "403": ({"base_url": provider.route("b", 403)}, REF, S.HEALTH_STATE_UNHEALTHY, "access_denied"),
        "429": ({"base_url": provider.route("c", 429)}, REF, S.HEALTH_STATE_DEGRADED, "rate_limited"),
        "400": ({"base_url": provider.route("d", 400)}, REF, S.HEALTH_STATE_UNHEALTHY, "http_400"),
        "500": ({"base_url": provider.route("e", 500)}, REF, S.HEALTH_STATE_UNHEALTHY, "http_500"),
        "refused": ({"base_url": closed_port_url()}, REF, S.HEALTH_STATE_UNHEALTHY, "connect_failed"),
        "timeout": ({"base_url": provider.route("hang", delay=10)}, REF, S.HEALTH_STATE_UNHEALTHY, "timeout"),
        "credential": (
            {"base_url": provider.route("never")}, "env://DEV_HEALTH_TEST_UNSET_VARIABLE",
            S.HEALTH_STATE_UNHEALTHY, "credential_unavailable",
        ),
    }
    ids = {name: await client.add(name, config, ref=ref) for name, (config, ref, _, _) in cases.items()}
    bedrock = await client.add(
        "bedrock", {}, provider_type=integrations_pb2.PROVIDER_TYPE_BEDROCK
    )
    results = await asyncio.gather(*(client.check(i) for i in [*ids.values(), bedrock]))
    got = {r.integration_name: (r.health_state, r.error_code) for r in results}
    expected = {name: (state, code) for name, (_, _, state, code) in cases.items()}
    expected["bedrock"] = (S.HEALTH_STATE_UNKNOWN, "unsupported")
    assert got == expected
    assert provider.seen("never") == []
    stored = await client.stored(ids["401"])
    assert stored.health_state == S.HEALTH_STATE_UNHEALTHY
    assert "401" in stored.health_message and stored.HasField("health_checked_at")
    assert all(r.HasField("checked_at") and not r.cached for r in results)


async def test_rate_limited_per_integration(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    integration = await client.add("i", {"base_url": provider.route("r")})
    first = await client.check(integration)
    again = await client.check(integration)
    assert (first.cached, again.cached) == (False, True)
    assert again.checked_at == first.checked_at and again.health_state == first.health_state
    assert len(provider.requests) == 1
    forced = await client.check(integration, force=True)
    assert not forced.cached and len(provider.requests) == 2


async def test_twenty_concurrent_checks_make_one_provider_request(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    integration = await client.add("i", {"base_url": provider.route("r", delay=0.1)})
    results = await asyncio.gather(*(client.check(integration) for _ in range(20)))
    assert len(provider.requests) == 1
    assert sorted(r.cached for r in results) == [False] + [True] * 19
    # Every caller got the one probe's result (healthy, or degraded on a loaded machine).
    assert len({(r.health_state, r.checked_at.ToDatetime()) for r in results}) == 1


async def test_test_credentials_is_a_forced_probe(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    integration = await client.add("i", {"base_url": provider.route("r", 401)}, enable=False)
    first = await client.test_credentials(integration)
    second = await client.test_credentials(integration)
    assert len(provider.requests) == 2
    assert (second.health_state, second.integration_id) == (S.HEALTH_STATE_UNHEALTHY, integration)
    assert "401" in second.message and second.latency_ms >= 0
    assert second.checked_at.ToDatetime() >= first.checked_at.ToDatetime()
    stored = await client.stored(integration)
    assert (stored.health_state, stored.health_checked_at) == (
        second.health_state, second.checked_at
    )


async def test_check_all_streams_stale_enabled_as_they_finish(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    fresh = await client.add("fresh", {"base_url": provider.route("fresh")})
    await client.check(fresh)
    await client.add("slow", {"base_url": provider.route("slow", 429, delay=0.6)})
    await client.add("mid", {"base_url": provider.route("mid", 500, delay=0.3)})
    await client.add("fast", {"base_url": provider.route("fast", 401)})
    await client.add("disabled", {"base_url": provider.route("disabled")}, enable=False)
    deleted = await client.add("deleted", {"base_url": provider.route("deleted")})
    await client.integrations.DeleteIntegration(
        integrations_pb2.DeleteIntegrationRequest(tenant_id=tenant, integration_id=deleted)
    )
    names = [r.integration_name async for r in client.check_all()]
    assert names == ["fast", "mid", "slow"]
    assert {r.route for r in provider.requests} == {"fresh", "slow", "mid", "fast"}
    summary = await client.summary()
    assert (summary.healthy, summary.degraded, summary.unhealthy, summary.unknown) == (1, 1, 2, 0)
    assert (summary.total, summary.stale_count) == (4, 0)
    assert summary.overall_health == S.HEALTH_STATE_UNHEALTHY
    # Nothing is stale any more; a zero threshold makes everything stale but rate limits hold.
    assert [r async for r in client.check_all()] == []
    again = [r async for r in client.check_all(stale_threshold=duration_pb2.Duration())]
    assert len(again) == 4 and all(r.cached for r in again)
    assert len(provider.requests) == 4


async def test_cancelling_check_all_stops_the_remaining_probes(
    health_server: RunningServer, provider: FakeProvider, tenant: str
) -> None:
    client = Client(health_server, tenant)
    base = provider.route("hang", delay=30)
    ids = [await client.add(f"i{n}", {"base_url": base}) for n in range(6)]
    call = client.check_all(max_concurrency=2)
    await provider.wait_for_requests(2)
    call.cancel()
    async with asyncio.timeout(5):
        while provider.disconnects < 2:  # the two running probes were abandoned
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    assert len(provider.requests) == 2
    # Their claims were released: a check right away probes instead of waiting for a lease.
    provider.routes["hang"].delay = 0
    seen = {r.integration_name for r in [await client.check(i) for i in ids]}
    assert len(seen) == 6 and len(provider.requests) == 8


async def test_summary_of_unchecked_and_empty(
    health_server: RunningServer, provider: FakeProvider, tenant: str, other_tenant: str
) -> None:
    client = Client(health_server, tenant)
    await client.add("a", {"base_url": provider.route("a")})
    summary = await client.summary()
    assert (summary.unknown, summary.total, summary.stale_count) == (1, 1, 1)
    assert summary.overall_health == S.HEALTH_STATE_UNKNOWN and summary.HasField("checked_at")
    empty = await Client(health_server, other_tenant).summary()
    assert (empty.total, empty.overall_health) == (0, S.HEALTH_STATE_UNKNOWN)


async def test_other_tenant_is_not_found_in_every_rpc(
    health_server: RunningServer, provider: FakeProvider, tenant: str, other_tenant: str
) -> None:
    mine = Client(health_server, tenant)
    theirs = Client(health_server, other_tenant)
    integration = await mine.add("i", {"base_url": provider.route("r")})
    missing = str(uuid.uuid4())
    for call in (theirs.check, theirs.test_credentials):
        with pytest.raises(grpc.aio.AioRpcError) as other:
            await call(integration)
        with pytest.raises(grpc.aio.AioRpcError) as absent:
            await call(missing)
        assert rich_error(other.value).code == grpc.StatusCode.NOT_FOUND
        assert rich_error(other.value).message == rich_error(absent.value).message.replace(
            missing, integration
        )
    assert [r async for r in theirs.check_all()] == []
    assert (await theirs.summary()).total == 0
    assert provider.requests == []
    assert (await mine.stored(integration)).health_state == S.HEALTH_STATE_UNKNOWN


@pytest.mark.parametrize(
    ("rpc", "request_fields", "bad_field"),
    [
        pytest.param("CheckHealth", {"integration_id": "nope"}, "integration_id", id="check-id"),
        pytest.param("CheckHealth", {"tenant_id": "x"}, "tenant_id", id="check-tenant"),
        pytest.param(
            "CheckAllIntegrations", {"max_concurrency": -1}, "max_concurrency", id="concurrency"
        ),
        pytest.param(
            "CheckAllIntegrations", {"stale_threshold": duration_pb2.Duration(seconds=-1)},
            "stale_threshold", id="threshold",
        ),
        pytest.param("GetHealthSummary", {"tenant_id": ""}, "tenant_id", id="summary-tenant"),
    ],
)
async def test_bad_input_is_invalid_argument_and_probes_nothing(
    health_server: RunningServer, provider: FakeProvider, tenant: str,
    rpc: str, request_fields: dict[str, Any], bad_field: str,
) -> None:
    client = Client(health_server, tenant)
    integration = await client.add("i", {"base_url": provider.route("r")})
    request_type = {
        "CheckHealth": health_pb2.CheckHealthRequest,
        "CheckAllIntegrations": health_pb2.CheckAllIntegrationsRequest,
        "GetHealthSummary": health_pb2.GetHealthSummaryRequest,
    }[rpc]
    fields = {"tenant_id": tenant, **request_fields}
    if rpc == "CheckHealth":
        fields.setdefault("integration_id", integration)
    method = getattr(client.health, rpc)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        reply = method(request_type(**fields))
        if rpc == "CheckAllIntegrations":
            [r async for r in reply]
        else:
            await reply
    err = rich_error(caught.value)
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and bad_field in err.field_violations
    assert provider.requests == []
    stored = await client.stored(integration)
    assert stored.health_state == S.HEALTH_STATE_UNKNOWN and not stored.HasField("health_checked_at")


async def test_key_never_in_results_logs_or_tables(
    health_server: RunningServer, provider: FakeProvider, tenant: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(health_server, tenant)
    P = integrations_pb2
    configs = [
        (P.PROVIDER_TYPE_OPENAI, {"base_url": provider.route("o", 401)}),
        (P.PROVIDER_TYPE_ANTHROPIC, {"base_url": provider.route("a", 403)}),
        (P.PROVIDER_TYPE_GOOGLE, {"base_url": provider.route("g")}),
        (P.PROVIDER_TYPE_GOOGLE, {"base_url": provider.route("gslow", delay=10)}),
        (P.PROVIDER_TYPE_GOOGLE, {"base_url": closed_port_url()}),
        (P.PROVIDER_TYPE_GOOGLE, {"base_url": provider.route("g500", 500), "probe": "generation"}),
        (P.PROVIDER_TYPE_AZURE_OPENAI, {"azure_endpoint": provider.route("z"), "deployment_name": "d"}),
        (P.PROVIDER_TYPE_CUSTOM, {"health_url": provider.route("c", 429), "auth_header": "X-Key"}),
    ]
    ids = [
        await client.add(f"i{n}", config, provider_type=kind)
        for n, (kind, config) in enumerate(configs)
    ]
    shown: list[str] = []
    shown += [str(r) for r in await asyncio.gather(*(client.check(i) for i in ids))]
    shown += [str(r) for r in await asyncio.gather(*(client.test_credentials(i) for i in ids))]
    shown += [str(r) async for r in client.check_all(stale_threshold=duration_pb2.Duration())]
    shown.append(str(await client.summary()))
    database = Database(health_server.database_url)
    try:
        async with database.transaction() as conn:
            for table in (integrations, health_checks):
                rows = await conn.execute(sa.select(table).where(table.c.tenant_id == tenant))
                shown += [str(tuple(row)) for row in rows]
    finally:
        await database.dispose()
    # The key did reach the providers, so its absence elsewhere means something.
    assert any(SECRET in str(r.headers) + str(r.query) for r in provider.requests)
    assert len(shown) > 3 * len(ids)
    for text in [*shown, caplog.text]:
        assert SECRET not in text
