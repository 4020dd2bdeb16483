"""Two server processes sharing one PostgreSQL: the database claim makes 40 concurrent checks of
a never-checked integration one provider request, and background rounds of both replicas probe
each stale integration once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from integrations.v1 import health_pb2, health_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from service.convert import to_struct
from tests.bench.harness import ServerProcess, postgres_database
from tests.fake_provider import FakeProvider, fake_provider

SECRET = "sk-replica-" + uuid.uuid4().hex
KEY_ENV = "HEALTH_REPLICA_TEST_KEY"


@pytest.fixture
async def shared_postgres(postgres_admin_url: str) -> AsyncIterator[str]:
    try:
        async with postgres_database(postgres_admin_url) as url:
            yield url
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip("PostgreSQL is not reachable")


@contextlib.asynccontextmanager
async def replicas(url: str, count: int, *args: str) -> AsyncIterator[list[ServerProcess]]:
    processes = [
        ServerProcess(url, "--allow-env-credentials", *args, env={KEY_ENV: SECRET})
        for _ in range(count)
    ]
    async with contextlib.AsyncExitStack() as stack:
        for process in processes:  # one at a time: the first applies the migrations
            await stack.enter_async_context(process)
        yield processes


async def create(channel: grpc.aio.Channel, tenant: str, name: str, base_url: str, enable: bool) -> str:
    stub = integrations_pb2_grpc.IntegrationsServiceStub(channel)
    created = await stub.CreateIntegration(
        integrations_pb2.CreateIntegrationRequest(
            tenant_id=tenant,
            integration=integrations_pb2.Integration(
                name=name, provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                credential_ref=f"env://{KEY_ENV}", config=to_struct({"base_url": base_url}),
            ),
        )
    )
    if enable:
        await stub.EnableIntegration(
            integrations_pb2.EnableIntegrationRequest(tenant_id=tenant, integration_id=created.id)
        )
    return str(created.id)


async def test_two_replicas_share_the_claim(shared_postgres: str) -> None:
    tenant = str(uuid.uuid4())
    provider: FakeProvider
    async with fake_provider() as provider, replicas(
        shared_postgres, 2, "--health-interval", "1"
    ) as (first, second):
        channels = [grpc.aio.insecure_channel(p.address) for p in (first, second)]
        try:
            # Not enabled: only the explicit checks below probe it, never the background rounds.
            manual = await create(
                channels[0], tenant, "manual", provider.route("manual", delay=0.2), enable=False
            )
            stubs = [health_pb2_grpc.IntegrationHealthServiceStub(c) for c in channels]
            request = health_pb2.CheckHealthRequest(tenant_id=tenant, integration_id=manual)
            results = await asyncio.gather(*(stubs[n % 2].CheckHealth(request) for n in range(40)))
            assert len(provider.seen("manual")) == 1
            assert sorted(r.cached for r in results) == [False] + [True] * 39

            names = [f"bg{n}" for n in range(3)]
            for n, name in enumerate(names):
                await create(channels[n % 2], tenant, name, provider.route(name), enable=True)
            async with asyncio.timeout(20):
                while not all(provider.seen(name) for name in names):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(2.5)  # two or more rounds of each replica
            assert {name: len(provider.seen(name)) for name in names} == dict.fromkeys(names, 1)
        finally:
            for channel in channels:
                await channel.close()
    assert all(SECRET in r.headers["authorization"] for r in provider.requests)
