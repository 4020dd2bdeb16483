"""SqlHealthStore on SQLite and PostgreSQL: the atomic claim, latest result and history with
retention, stale lists and counts, tenant isolation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from drivers.health.store import SqlHealthStore
from drivers.integrations.store import SqlIntegrationStore
from drivers.kernel.database import Database
from drivers.tables.integrations import integrations
from engines.health.checks import HealthCheckResult, HealthHistoryFilters
from engines.health.circuit import CircuitEvent, CircuitState
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationDraft,
    IntegrationsEngine,
    IntegrationStatus,
    ProviderType,
)
from engines.kernel.pagination import parse_page

NOW = datetime.now(timezone.utc).replace(microsecond=0)
LEASE = timedelta(seconds=30)


async def new_integration(
    database: Database, tenant: str, name: str = "i", *, enabled: bool = True
) -> Integration:
    engine = IntegrationsEngine(SqlIntegrationStore(database))
    created = await engine.create(
        tenant,
        IntegrationDraft(name=name, provider_type=ProviderType.OPENAI, credential_ref="env://K"),
        created_by="test",
    )
    if enabled:
        await engine.enable(tenant, created.id)
    return created


def result_of(integration: Integration, state: HealthState, at: datetime) -> HealthCheckResult:
    return HealthCheckResult(
        integration.id, integration.name, state, f"{state.value} at {at}", 12, at, "x"
    )


async def claim(store: SqlHealthStore, tenant: str, integration_id: str, now: datetime,
                checked_before: datetime | None) -> bool:
    return await store.claim(
        tenant, integration_id, now=now, checked_before=checked_before,
        lease_expired_before=now - LEASE,
    )


async def test_twenty_concurrent_claims_one_winner(database: Database, tenant: str) -> None:
    integration = await new_integration(database, tenant)
    store = SqlHealthStore(database)
    wins = await asyncio.gather(
        *(claim(store, tenant, integration.id, NOW, NOW - timedelta(seconds=60)) for _ in range(20))
    )
    assert wins.count(True) == 1


async def test_claim_respects_window_lease_and_tenant(
    database: Database, tenant: str, other_tenant: str
) -> None:
    integration = await new_integration(database, tenant)
    store = SqlHealthStore(database)
    window = timedelta(seconds=60)
    assert not await claim(store, other_tenant, integration.id, NOW, NOW - window)
    assert await claim(store, tenant, integration.id, NOW, NOW - window)
    # Held: neither a plain nor a forced claim gets it until the lease runs out or it is released.
    assert not await claim(store, tenant, integration.id, NOW, None)
    assert await claim(store, tenant, integration.id, NOW + LEASE + timedelta(seconds=1), None)
    await store.release(tenant, integration.id)
    assert await claim(store, tenant, integration.id, NOW, NOW - window)
    await store.record(tenant, result_of(integration, HealthState.HEALTHY, NOW))
    # Recorded at NOW: fresh within the window, so only a forced claim wins.
    later = NOW + timedelta(seconds=59)
    assert not await claim(store, tenant, integration.id, later, later - window)
    assert await claim(store, tenant, integration.id, later, None)


async def test_record_latest_history_and_retention(
    database: Database, tenant: str, other_tenant: str
) -> None:
    integration = await new_integration(database, tenant)
    store = SqlHealthStore(database)
    retention = timedelta(days=2)
    times = [NOW - timedelta(days=3), NOW - timedelta(days=1), NOW]
    states = [HealthState.UNHEALTHY, HealthState.DEGRADED, HealthState.HEALTHY]
    for state, at in zip(states, times, strict=True):
        await store.record(tenant, result_of(integration, state, at))
        await store.prune_history(tenant, at - retention, integration.id)
    latest = await store.latest(tenant, integration.id)
    assert latest == result_of(integration, HealthState.HEALTHY, NOW)
    history = await store.history(tenant, integration.id)
    assert [(h.health_state, h.checked_at) for h in history] == [
        (HealthState.DEGRADED, times[1]), (HealthState.HEALTHY, times[2])
    ]
    assert await store.latest(other_tenant, integration.id) is None
    assert await store.history(other_tenant, integration.id) == []
    # The integration row carries the latest, as GetIntegration shows it.
    row = await SqlIntegrationStore(database).get(tenant, integration.id)
    assert row is not None and row.health_state is HealthState.HEALTHY
    assert row.health_checked_at == NOW and row.version == 2  # a probe does not change the etag


async def test_update_does_not_put_back_health_it_read_before_a_probe(
    database: Database, tenant: str
) -> None:
    integration = await new_integration(database, tenant)
    engine = IntegrationsEngine(SqlIntegrationStore(database))
    before = await engine.get(tenant, integration.id)
    await SqlHealthStore(database).record(
        tenant, result_of(integration, HealthState.UNHEALTHY, NOW)
    )
    await engine.update(tenant, integration.id, {"default_model": "m2"}, before.etag)
    after = await engine.get(tenant, integration.id)
    assert (after.default_model, after.health_state) == ("m2", HealthState.UNHEALTHY)


async def test_stale_tenants_and_counts(database: Database, tenant: str, other_tenant: str) -> None:
    store = SqlHealthStore(database)
    fresh = await new_integration(database, tenant, "fresh")
    old = await new_integration(database, tenant, "old")
    await new_integration(database, tenant, "never")
    await new_integration(database, tenant, "disabled", enabled=False)
    deleted = await new_integration(database, tenant, "deleted")
    await IntegrationsEngine(SqlIntegrationStore(database)).delete(tenant, deleted.id)
    await new_integration(database, other_tenant, "theirs")
    await store.record(tenant, result_of(fresh, HealthState.HEALTHY, NOW))
    await store.record(tenant, result_of(old, HealthState.UNHEALTHY, NOW - timedelta(hours=1)))
    cutoff = NOW - timedelta(minutes=5)
    assert [i.name for i in await store.stale(tenant, cutoff)] == ["old", "never"]
    assert {tenant, other_tenant} <= set(await store.tenants_with_stale(cutoff))
    counts, stale = await store.counts(tenant, cutoff)
    assert dict(counts) == {
        HealthState.HEALTHY: 1, HealthState.UNHEALTHY: 1, HealthState.UNKNOWN: 1
    }
    assert stale == 2


async def test_claim_column_is_not_the_etag(database: Database, tenant: str) -> None:
    integration = await new_integration(database, tenant)
    store = SqlHealthStore(database)
    assert await claim(store, tenant, integration.id, NOW, None)
    async with database.transaction() as conn:
        version = (
            await conn.execute(sa.select(integrations.c.version).where(integrations.c.id == integration.id))
        ).scalar_one()
    assert version == 2


async def test_tenant_wide_prune_keeps_other_tenants_history(
    database: Database, tenant: str, other_tenant: str
) -> None:
    store = SqlHealthStore(database)
    mine = await new_integration(database, tenant)
    theirs = await new_integration(database, other_tenant)
    old = NOW - timedelta(days=40)
    await store.record(tenant, result_of(mine, HealthState.HEALTHY, old))
    await store.record(other_tenant, result_of(theirs, HealthState.HEALTHY, old))
    await store.prune_history(tenant, NOW - timedelta(days=30))
    assert await store.history(tenant, mine.id) == []
    assert len(await store.history(other_tenant, theirs.id)) == 1


async def test_circuit_record_status_version_and_background_targets(
    database: Database, tenant: str
) -> None:
    """An OPENED record moves the row to ERROR and its version; background rounds (`due_at`)
    also list open circuits but only once their backoff is over; CLOSED goes to DISABLED."""
    failing = await new_integration(database, tenant, "failing")
    store = SqlHealthStore(database)
    integrations_store = SqlIntegrationStore(database)
    before = await integrations_store.get(tenant, failing.id)
    assert before is not None and before.circuit == CircuitState()
    at = NOW - timedelta(minutes=10)
    opened = CircuitState(3, at, "3 consecutive failed health probes", at + timedelta(minutes=4))
    await store.record(tenant, replace(
        result_of(failing, HealthState.UNHEALTHY, at),
        circuit=opened, circuit_event=CircuitEvent.OPENED,
    ))
    after = await integrations_store.get(tenant, failing.id)
    assert after is not None and after.circuit == opened
    assert (after.status, after.version) == (IntegrationStatus.ERROR, before.version + 1)
    assert await store.circuit(tenant, failing.id) == opened

    stale_before = NOW - timedelta(seconds=30)
    assert await store.stale(tenant, stale_before) == []  # ERROR: not for CheckAllIntegrations
    early = at + timedelta(minutes=3)
    assert await store.stale(tenant, stale_before, early) == []
    assert tenant not in await store.tenants_with_stale(stale_before, early)
    due = at + timedelta(minutes=4)
    assert [i.id for i in await store.stale(tenant, stale_before, due)] == [failing.id]
    assert tenant in await store.tenants_with_stale(stale_before, due)

    await store.record(tenant, replace(
        result_of(failing, HealthState.HEALTHY, NOW), circuit_event=CircuitEvent.CLOSED
    ))
    closed = await integrations_store.get(tenant, failing.id)
    assert closed is not None and closed.circuit == CircuitState()
    assert (closed.status, closed.version) == (IntegrationStatus.DISABLED, before.version + 2)
    history = await store.list_checks(
        tenant, HealthHistoryFilters(integration_id=failing.id), parse_page(0, "", {})
    )
    assert [(r.circuit_event, r.consecutive_failures) for r in history[0]] == [
        (CircuitEvent.CLOSED, 0), (CircuitEvent.OPENED, 3)
    ]
