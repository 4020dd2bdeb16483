"""Three server processes started together on one fresh PostgreSQL database, clients spread
across them: what one process guarantees must hold across processes too, because the database,
not process memory, decides (conditional UPDATEs on `version`, unique (tenant_id, request_id)).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
import pytest_asyncio
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from google.protobuf import field_mask_pb2

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from drivers.kernel import migrator
from drivers.kernel.database import Database
from integrations.v1 import (
    common_pb2,
    health_pb2,
    health_pb2_grpc,
    integrations_pb2_grpc,
    prevention_pb2,
    prevention_pb2_grpc,
)
from integrations.v1 import integrations_pb2 as pb
from tests.fake_provider import fake_provider
from tests.replicas import Replicas, fresh_postgres, replicas
from tests.secrets_registry import register_secret
from tests.service.integrations_helpers import (
    create_integration,
    create_probed_integration,
    integration_message,
)
from tests.service.secret_scan import secrets_in_database
from tests.support import new_tenant, rich_error

pytestmark = pytest.mark.asyncio(loop_scope="module")

R = TypeVar("R")
S = TypeVar("S")
KEY_ENV = "DEV_REPLICA_TEST_PROVIDER_KEY"
PROVIDER_KEY = register_secret("sk-replicas-" + uuid.uuid4().hex)
CREDENTIAL_SECRET = register_secret("replica-secret-" + uuid.uuid4().hex)
# Calls per replica in each concurrent burst.
PER_REPLICA = 3


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(postgres_admin_url: str) -> AsyncIterator[Replicas]:
    # A loaded 2-core machine can take seconds to schedule a probe's answer: the slow threshold
    # is raised so the tests see HEALTHY for what the fake provider answers in 0.3 s. Cached
    # integrations never expire here, so only change notifications can invalidate them.
    async with fresh_postgres(postgres_admin_url) as url, replicas(
        url, 3, "--health-slow-ms", "60000", "--integration-cache-seconds", "3600",
        env={KEY_ENV: PROVIDER_KEY},
    ) as started:
        yield started


async def everywhere(
    cluster: Replicas, call: Callable[[int], Awaitable[R]]
) -> list[R | BaseException]:
    """`call(n)` for n in 0..PER_REPLICA*replicas-1, all at once; call n goes to replica
    n % replicas (round-robin), so every replica gets PER_REPLICA of them."""
    calls = PER_REPLICA * len(cluster)
    return await asyncio.gather(*(call(n) for n in range(calls)), return_exceptions=True)


def successes(results: Sequence[R | BaseException]) -> list[R]:
    unexpected = [
        r for r in results
        if isinstance(r, BaseException) and not isinstance(r, grpc.aio.AioRpcError)
    ]
    assert unexpected == []
    return [r for r in results if not isinstance(r, BaseException)]


async def one_resource_everywhere(
    cluster: Replicas, stubs: Sequence[S], send: Callable[[S], Awaitable[R]]
) -> R:
    """Sends the same create PER_REPLICA times to every replica at once; every call must answer
    with the same resource (same id), which is returned."""
    made = successes(await everywhere(cluster, lambda n: send(stubs[n % len(stubs)])))
    assert len(made) == PER_REPLICA * len(cluster)
    assert len({m.id for m in made}) == 1  # type: ignore[attr-defined]
    return made[0]


Stub = integrations_pb2_grpc.IntegrationsServiceStub


def integrations_stubs(cluster: Replicas) -> list[Stub]:
    return cluster.stubs(Stub)


async def one_integration(
    cluster: Replicas, name: str, **fields: object
) -> tuple[list[Stub], str, pb.Integration]:
    """IntegrationsService stubs of every replica, a fresh tenant, and an integration of it."""
    stubs = integrations_stubs(cluster)
    tenant = new_tenant()
    return stubs, tenant, await create_integration(stubs[0], tenant, name, **fields)


# --- migrations -----------------------------------------------------------------------------


async def test_replicas_started_together_migrated_the_empty_database_once(
    cluster: Replicas,
) -> None:
    """The three servers raced to migrate one empty database (the fixture starts them at once);
    the advisory lock made them take turns, so all serve and every head is applied."""
    database = Database(cluster.database_url)
    try:
        async with database.transaction() as conn:
            applied = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
    finally:
        await database.dispose()
    migrations = Path(migrator.__file__).parent.parent / "migrations"
    assert sorted(applied) == sorted(ScriptDirectory(str(migrations)).get_heads())
    assert len(applied) > 1  # several families branch from 0001: a real multi-head upgrade


# --- health batches -------------------------------------------------------------------------


async def test_check_all_on_every_replica_at_once_probes_each_integration_once(
    cluster: Replicas,
) -> None:
    tenant, other = new_tenant(), new_tenant()
    integrations = integrations_stubs(cluster)
    health = cluster.stubs(health_pb2_grpc.IntegrationHealthServiceStub)
    async with fake_provider() as provider:
        names = [f"batch{n}" for n in range(6)]
        # Slow answers, so the three batches overlap while the probes are in flight.
        ids = [
            await create_probed_integration(
                integrations[n % len(integrations)], tenant, name,
                provider.route(name, delay=0.3), key_env=KEY_ENV, enable=True,
            )
            for n, name in enumerate(names)
        ]

        async def batch(stub: health_pb2_grpc.IntegrationHealthServiceStub, tenant_id: str) -> list:
            request = health_pb2.CheckAllIntegrationsRequest(
                tenant_id=tenant_id, max_concurrency=len(names)
            )
            return [result async for result in stub.CheckAllIntegrations(request)]

        streams = await asyncio.gather(*(batch(stub, tenant) for stub in health))
        assert {name: len(provider.seen(name)) for name in names} == dict.fromkeys(names, 1)
        results = [result for stream in streams for result in stream]
        assert {r.integration_id for r in results} == set(ids)
        assert sorted(r.integration_id for r in results if not r.cached) == sorted(ids)
        assert {r.health_state for r in results} == {common_pb2.HEALTH_STATE_HEALTHY}
        # Another tenant's batch, on any replica, neither sees nor probes these.
        assert await asyncio.gather(*(batch(stub, other) for stub in health)) == [[], [], []]
        assert len(provider.requests) == len(names)
    assert all(PROVIDER_KEY in r.headers["authorization"] for r in provider.requests)


# --- etags ----------------------------------------------------------------------------------


async def test_same_etag_on_every_replica_one_update_wins_the_rest_are_aborted(
    cluster: Replicas,
) -> None:
    stubs, tenant, created = await one_integration(cluster, "contended")
    mask = field_mask_pb2.FieldMask(paths=["default_model"])
    current = created
    for round_ in range(3):

        async def update(n: int, etag: str = current.etag, round_: int = round_) -> pb.Integration:
            return await stubs[n % len(stubs)].UpdateIntegration(
                pb.UpdateIntegrationRequest(
                    tenant_id=tenant,
                    integration=pb.Integration(
                        id=created.id, etag=etag, default_model=f"model-{round_}-{n}"
                    ),
                    update_mask=mask,
                )
            )

        results = await everywhere(cluster, update)
        winners = successes(results)
        assert len(winners) == 1, [type(r).__name__ for r in results]
        losers = [rich_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert {e.code for e in losers} == {grpc.StatusCode.ABORTED}
        assert len(losers) == len(results) - 1
        # Every replica now reads the winner's write, with the winner's etag.
        for stub in stubs:
            stored = await stub.GetIntegration(
                pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
            )
            assert (stored.default_model, stored.etag) == (winners[0].default_model, winners[0].etag)
        assert winners[0].etag != current.etag
        current = winners[0]


async def test_stale_etag_from_another_replica_is_aborted_and_changes_nothing(
    cluster: Replicas,
) -> None:
    (first, second, third), tenant, created = await one_integration(
        cluster, "stale", default_model="before"
    )
    changed = await second.UpdateIntegration(
        pb.UpdateIntegrationRequest(
            tenant_id=tenant,
            integration=pb.Integration(id=created.id, etag=created.etag, default_model="after"),
            update_mask=field_mask_pb2.FieldMask(paths=["default_model"]),
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await third.UpdateIntegration(
            pb.UpdateIntegrationRequest(
                tenant_id=tenant,
                integration=pb.Integration(id=created.id, etag=created.etag, default_model="lost"),
                update_mask=field_mask_pb2.FieldMask(paths=["default_model"]),
            )
        )
    assert rich_error(caught.value).code == grpc.StatusCode.ABORTED
    stored = await first.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert (stored.default_model, stored.etag) == ("after", changed.etag)


# --- idempotent creates ---------------------------------------------------------------------


async def test_create_integration_request_id_makes_one_integration_across_replicas(
    cluster: Replicas,
) -> None:
    stubs = integrations_stubs(cluster)
    tenant, other = new_tenant(), new_tenant()

    def create(stub: Stub, tenant_id: str = tenant) -> Awaitable[pb.Integration]:
        return stub.CreateIntegration(
            pb.CreateIntegrationRequest(
                tenant_id=tenant_id, integration=integration_message("once"), request_id="req-1"
            )
        )

    made = await one_resource_everywhere(cluster, stubs, create)
    for stub in stubs:
        listed = await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant))
        assert [i.id for i in listed.integrations] == [made.id]
    # The same request_id in another tenant, on another replica, is another request.
    elsewhere = await create(stubs[1], other)
    assert elsewhere.id != made.id


async def test_record_usage_request_id_records_one_event_across_replicas(
    cluster: Replicas,
) -> None:
    stubs, tenant, created = await one_integration(cluster, "metered")
    request = pb.RecordUsageRequest(
        tenant_id=tenant, integration_id=created.id, tokens=7, cost_cents=3, request_id="usage-1"
    )
    replies = successes(await everywhere(cluster, lambda n: stubs[n % len(stubs)].RecordUsage(request)))
    assert len(replies) == PER_REPLICA * len(cluster)
    assert sorted(r.recorded for r in replies) == [False] * (len(replies) - 1) + [True]
    assert {r.usage_event_id for r in replies} == {replies[0].usage_event_id}
    for stub in stubs:
        limits = await stub.GetLimitsStatus(
            pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
        )
        assert (limits.tokens_used_month, limits.budget_used_cents) == (7, 3)


async def test_create_prevention_record_request_id_makes_one_record_across_replicas(
    cluster: Replicas,
) -> None:
    stubs = cluster.stubs(prevention_pb2_grpc.PreventionServiceStub)
    tenant = new_tenant()
    request = prevention_pb2.CreatePreventionRecordRequest(
        candidate=prevention_pb2.PreventionCandidate(
            policy_id="policy-1", pattern_id="pattern-1", tenant_id=tenant,
            blocked_incident_id="inc-9", original_incident_id="inc-1",
            signature_match_confidence=0.9, policy_mode="active",
        ),
        request_id="prevent-1",
    )
    made = await one_resource_everywhere(cluster, stubs, lambda s: s.CreatePreventionRecord(request))
    for stub in stubs:
        listed = await stub.ListPreventionRecords(
            prevention_pb2.ListPreventionRecordsRequest(tenant_id=tenant)
        )
        assert [r.id for r in listed.prevention_records] == [made.id]


async def test_create_credential_request_id_makes_one_credential_across_replicas(
    cluster: Replicas,
) -> None:
    stubs = cluster.stubs(credentials_pb2_grpc.CredentialServiceStub)
    tenant = new_tenant()
    request = credentials_pb2.CreateCredentialRequest(
        tenant_id=tenant, name="shared", secret=CREDENTIAL_SECRET, request_id="cred-1"
    )
    made = await one_resource_everywhere(cluster, stubs, lambda s: s.CreateCredential(request))
    for stub in stubs:
        listed = await stub.ListCredentials(credentials_pb2.ListCredentialsRequest(tenant_id=tenant))
        assert [c.id for c in listed.credentials] == [made.id]
    # Neither the stored secret nor the provider key is anywhere in the database in plaintext.
    assert await secrets_in_database(cluster.database_url, [CREDENTIAL_SECRET, PROVIDER_KEY]) == []


# --- the integration cache across replicas (docs/consistency.md) -----------------------------


async def _read_until(
    stub: integrations_pb2_grpc.IntegrationsServiceStub,
    get: pb.GetIntegrationRequest,
    model: str,
) -> int:
    """Reads until `model` is served; how many reads served the older version first. (The
    overall timeout only keeps a broken invalidation from hanging the run.)"""
    async with asyncio.timeout(60):
        stale = 0
        while (await stub.GetIntegration(get)).default_model != model:
            stale += 1
            await asyncio.sleep(0.001)
        return stale


async def test_writes_are_seen_at_once_on_their_replica_and_by_notification_on_another(
    cluster: Replicas,
) -> None:
    """Both caches hold the integration (read three times) when the writer's update is
    acknowledged. The writer's next read is the new version (read-your-writes); the reader's
    becomes it once the commit's notification arrives, its entry never expiring here. How
    soon is not asserted (a notification still on the wire is allowed, docs/consistency.md),
    but a lost one hangs the loop until the timeout, and a version never goes back."""
    (reader, writer, _), tenant, created = await one_integration(
        cluster, "cached", default_model="v0"
    )
    get = pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    etag = created.etag
    stale_reads = []
    for n in range(1, 21):
        for _ in range(3):
            assert (await reader.GetIntegration(get)).default_model == f"v{n - 1}"
            assert (await writer.GetIntegration(get)).default_model == f"v{n - 1}"
        changed = await writer.UpdateIntegration(
            pb.UpdateIntegrationRequest(
                tenant_id=tenant,
                integration=pb.Integration(id=created.id, etag=etag, default_model=f"v{n}"),
                update_mask=field_mask_pb2.FieldMask(paths=["default_model"]),
            )
        )
        etag = changed.etag
        mine = await writer.GetIntegration(get)
        assert (mine.default_model, mine.etag) == (f"v{n}", etag)
        stale_reads.append(await _read_until(reader, get, f"v{n}"))
        assert (await reader.GetIntegration(get)).etag == etag
    print(f"reads of the older version on the other replica after each update: {stale_reads}")
    await writer.DeleteIntegration(
        pb.DeleteIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    for read in (writer.GetIntegration(get), _read_until(reader, get, "deleted")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:  # the writer at once, the reader
            await read  # once notified
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
