"""Two server processes sharing one PostgreSQL: the health circuit lives in the database, so
failures counted by both replicas' background rounds open it once, the other replica refuses
EnableIntegration, and a TestCredentials on one replica closes it for both."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from integrations.v1 import health_pb2, health_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.fake_provider import FakeProvider, fake_provider
from tests.replicas import fresh_postgres, replicas
from tests.secrets_registry import register_secret
from tests.service.integrations_helpers import create_probed_integration
from tests.support import rich_error

SECRET = register_secret("sk-circuit-replica-" + uuid.uuid4().hex)
KEY_ENV = "DEV_HEALTH_CIRCUIT_REPLICA_KEY"
FLAGS = (
    "--health-interval", "0.5", "--health-min-interval", "0",
    "--health-failure-threshold", "3", "--health-backoff-max", "2",
)


async def test_circuit_state_is_shared_by_replicas(postgres_admin_url: str) -> None:
    tenant = str(uuid.uuid4())
    provider: FakeProvider
    async with fresh_postgres(postgres_admin_url) as url, fake_provider() as provider, replicas(
        url, 2, *FLAGS, env={KEY_ENV: SECRET}
    ) as both:
        first, second = both.stubs(integrations_pb2_grpc.IntegrationsServiceStub)
        integration = await create_probed_integration(
            first, tenant, "down", provider.route("down", 500), key_env=KEY_ENV, enable=True
        )
        get = integrations_pb2.GetIntegrationRequest(tenant_id=tenant, integration_id=integration)
        async with asyncio.timeout(30):
            while not (await second.GetIntegration(get)).circuit_open:
                await asyncio.sleep(0.1)
        opened = await first.GetIntegration(get)
        assert opened.status == integrations_pb2.INTEGRATION_STATUS_ERROR
        assert opened.consecutive_health_failures >= 3

        enable = integrations_pb2.EnableIntegrationRequest(
            tenant_id=tenant, integration_id=integration
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await second.EnableIntegration(enable)
        assert rich_error(refused.value).reason == "INTEGRATION_CIRCUIT_OPEN"

        provider.routes["down"].status = 200
        tested = await second.TestCredentials(
            integrations_pb2.TestCredentialsRequest(tenant_id=tenant, integration_id=integration)
        )
        assert not tested.circuit_open
        closed = await first.GetIntegration(get)
        assert closed.status == integrations_pb2.INTEGRATION_STATUS_DISABLED
        assert not closed.circuit_open
        assert (await first.EnableIntegration(enable)).status == (
            integrations_pb2.INTEGRATION_STATUS_ENABLED
        )

        health = both.stubs(health_pb2_grpc.IntegrationHealthServiceStub)[1]
        history = await health.ListHealthChecks(
            health_pb2.ListHealthChecksRequest(
                tenant_id=tenant, integration_id=integration, page_size=100
            )
        )
        oldest_first = list(reversed(history.health_checks))
        events = [r.circuit_event for r in oldest_first]
        # Opened exactly once although both replicas probed; no failure counted twice or lost.
        assert events.count(health_pb2.CIRCUIT_EVENT_OPENED) == 1
        assert events.count(health_pb2.CIRCUIT_EVENT_CLOSED) == 1
        failing = [r for r in oldest_first if r.error_code == "http_500"]
        assert [r.consecutive_failures for r in failing] == list(range(1, len(failing) + 1))
        assert oldest_first[2].circuit_event == health_pb2.CIRCUIT_EVENT_OPENED
