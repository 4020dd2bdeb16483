"""Two server processes sharing one PostgreSQL: the database claim makes 40 concurrent checks of
a never-checked integration one provider request, and background rounds of both replicas probe
each stale integration once. (tests/service/test_replicas.py runs batches on three.)"""

from __future__ import annotations

import asyncio
import uuid

from integrations.v1 import health_pb2, health_pb2_grpc, integrations_pb2_grpc
from tests.fake_provider import FakeProvider, fake_provider
from tests.replicas import fresh_postgres, replicas
from tests.secrets_registry import register_secret
from tests.service.integrations_helpers import create_probed_integration

SECRET = register_secret("sk-replica-" + uuid.uuid4().hex)
KEY_ENV = "DEV_HEALTH_REPLICA_TEST_KEY"


async def test_two_replicas_share_the_claim(postgres_admin_url: str) -> None:
    tenant = str(uuid.uuid4())
    provider: FakeProvider
    async with fresh_postgres(postgres_admin_url) as url, fake_provider() as provider, replicas(
        url, 2, "--health-interval", "1", env={KEY_ENV: SECRET}
    ) as both:
        first, second = both.stubs(integrations_pb2_grpc.IntegrationsServiceStub)
        # Not enabled: only the explicit checks below probe it, never the background rounds.
        manual = await create_probed_integration(
            first, tenant, "manual", provider.route("manual", delay=0.2), key_env=KEY_ENV,
            enable=False,
        )
        stubs = both.stubs(health_pb2_grpc.IntegrationHealthServiceStub)
        request = health_pb2.CheckHealthRequest(tenant_id=tenant, integration_id=manual)
        results = await asyncio.gather(*(stubs[n % 2].CheckHealth(request) for n in range(40)))
        assert len(provider.seen("manual")) == 1
        assert sorted(r.cached for r in results) == [False] + [True] * 39

        names = [f"bg{n}" for n in range(3)]
        for n, name in enumerate(names):
            await create_probed_integration(
                (first, second)[n % 2], tenant, name, provider.route(name), key_env=KEY_ENV,
                enable=True,
            )
        async with asyncio.timeout(20):
            while not all(provider.seen(name) for name in names):
                await asyncio.sleep(0.05)
        await asyncio.sleep(2.5)  # two or more rounds of each replica
        assert {name: len(provider.seen(name)) for name in names} == dict.fromkeys(names, 1)
    assert all(SECRET in r.headers["authorization"] for r in provider.requests)
