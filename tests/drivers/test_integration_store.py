"""SqlIntegrationStore on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from drivers.integrations.store import SqlIntegrationStore
from drivers.kernel.database import Database
from engines.integrations.integration import (
    HealthState,
    Integration,
    IntegrationFilters,
    IntegrationStatus,
    ProviderType,
    UsageEvent,
)
from engines.kernel.errors import AlreadyExists, FailedPrecondition, NotFound
from engines.kernel.pagination import parse_page
from tests.support import new_tenant, request_key

T0 = datetime(2026, 5, 1, 0, 0, 0, 123456, tzinfo=timezone.utc)


def _integration(tenant: str, name: str, created: datetime = T0) -> Integration:
    return Integration(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        name=name,
        provider_type=ProviderType.GOOGLE,
        credential_ref="env://K",
        config={"base_url": "http://127.0.0.1:1", "nested": {"a": [1, 2]}},
        default_model="m",
        status=IntegrationStatus.CREATED,
        health_state=HealthState.UNKNOWN,
        health_message="",
        health_checked_at=None,
        budget_limit_cents=2**40,
        token_limit_month=0,
        rate_limit_rpm=2**31 - 1,
        created_by="svc",
        create_time=created,
        update_time=created,
    )


@pytest.fixture
def store(database: Database) -> SqlIntegrationStore:
    return SqlIntegrationStore(database)


async def test_round_trip_keeps_every_field(store: SqlIntegrationStore) -> None:
    original = _integration(new_tenant(), "a")
    await store.insert(original, None)
    assert await store.get(original.tenant_id, original.id) == original
    assert await store.get(new_tenant(), original.id) is None


async def test_request_id_returns_the_first_insert(store: SqlIntegrationStore) -> None:
    tenant = new_tenant()
    first = _integration(tenant, "a")
    assert await store.insert(first, request_key("r1")) == first
    assert await store.insert(_integration(tenant, "b"), request_key("r1")) == first
    assert (await store.find_by_request_id(tenant, "r1")).resource == first


async def test_a_request_id_race_is_judged_by_the_request_digest(
    store: SqlIntegrationStore,
) -> None:
    tenant = new_tenant()
    first = _integration(tenant, "a")
    await store.insert(first, request_key("r1", "first"))
    with pytest.raises(FailedPrecondition) as reused:
        await store.insert(_integration(tenant, "b"), request_key("r1", "another"))
    assert reused.value.reason == "REQUEST_ID_REUSED"
    assert await store.soft_delete(tenant, first.id, T0)
    replay = await store.find_by_request_id(tenant, "r1")
    assert replay is not None and replay.deleted and replay.request_digest == "digest of first"
    with pytest.raises(NotFound, match="was deleted"):
        await store.insert(_integration(tenant, "c"), request_key("r1", "first"))


async def test_live_name_clash_raises_already_exists(store: SqlIntegrationStore) -> None:
    tenant = new_tenant()
    first = _integration(tenant, "same")
    await store.insert(first, None)
    with pytest.raises(AlreadyExists):
        await store.insert(_integration(tenant, "same"), None)
    assert await store.soft_delete(tenant, first.id, T0)
    assert not await store.soft_delete(tenant, first.id, T0)
    await store.insert(_integration(tenant, "same"), None)


async def test_replace_is_conditional_on_the_version(store: SqlIntegrationStore) -> None:
    from dataclasses import replace

    original = _integration(new_tenant(), "v")
    await store.insert(original, None)
    newer = replace(original, name="w", version=2)
    assert await store.replace(newer, expected_version=1)
    assert not await store.replace(replace(original, name="x", version=2), expected_version=1)
    assert (await store.get(original.tenant_id, original.id)) == newer


async def test_list_pages_by_time_then_id_with_filters(store: SqlIntegrationStore) -> None:
    tenant = new_tenant()
    rows = [_integration(tenant, f"n{i}", T0 + timedelta(microseconds=i % 2)) for i in range(6)]
    for row in rows:
        await store.insert(row, None)
    expected = sorted(rows, key=lambda r: (r.create_time, r.id))
    page = parse_page(4, "", {})
    first, total = await store.list(tenant, IntegrationFilters(), page)
    assert total == 6 and [r.id for r in first] == [r.id for r in expected[:5]]
    after = (expected[3].create_time, expected[3].id)
    rest, _ = await store.list(
        tenant, IntegrationFilters(), type(page)(size=4, after=after, filters_digest="")
    )
    assert [r.id for r in rest] == [r.id for r in expected[4:]]
    none, total = await store.list(
        tenant, IntegrationFilters(status=IntegrationStatus.ENABLED), page
    )
    assert (list(none), total) == ([], 0)


async def test_usage_totals_respect_month_and_window_edges(store: SqlIntegrationStore) -> None:
    tenant = new_tenant()
    integration = _integration(tenant, "u")
    await store.insert(integration, None)
    month_start, month_end = T0.replace(microsecond=0), T0.replace(month=6, microsecond=0)
    events = [
        (month_start - timedelta(microseconds=1), 1000),
        (month_start, 1),
        (month_end - timedelta(microseconds=1), 10),
        (month_end, 100000),
    ]
    for occurred, tokens in events:
        event = UsageEvent(
            id=str(uuid.uuid4()), tenant_id=tenant, integration_id=integration.id,
            tokens=tokens, cost_cents=tokens, occurred_at=occurred, request_id=None,
            create_time=T0,
        )
        assert (await store.append_usage(event, None))[1]
    totals = await store.usage_totals(
        integration.id, month_start, month_end, window_start=month_end - timedelta(seconds=60)
    )
    assert (totals.tokens, totals.cost_cents, totals.requests_in_window) == (11, 11, 2)


async def test_usage_totals_are_exact_beyond_int64(
    store: SqlIntegrationStore, database: Database
) -> None:
    """Events stored before the per-event bound existed: their sum exceeds int64 on both
    backends, and neither SQLite's sum() overflow nor a numeric overflow escapes."""
    tenant = new_tenant()
    integration = _integration(tenant, "big")
    await store.insert(integration, None)
    largest = 2**63 - 1
    for _ in range(3):
        await store.append_usage(
            UsageEvent(
                id=str(uuid.uuid4()), tenant_id=tenant, integration_id=integration.id,
                tokens=largest, cost_cents=largest - 1, occurred_at=T0, request_id=None,
                create_time=T0,
            ),
            None,
        )
    totals = await store.usage_totals(
        integration.id, T0 - timedelta(days=1), T0 + timedelta(days=1), T0
    )
    assert (totals.tokens, totals.cost_cents) == (3 * largest, 3 * (largest - 1))
    assert totals.requests_in_window == 3


async def test_an_unchanged_row_is_the_same_integration_and_any_change_a_new_one(
    database: Database,
) -> None:
    """The store hands out the same Integration for an unchanged row (the servicer encodes it
    once); a change in any column makes a new one, including health, which keeps the version,
    and including a change made through another store (another replica's)."""
    from dataclasses import replace

    from drivers.health.store import SqlHealthStore
    from engines.health.checks import HealthCheckResult

    reader, writer = SqlIntegrationStore(database), SqlIntegrationStore(database)
    original = _integration(new_tenant(), "same")
    await writer.insert(original, None)
    page = parse_page(20, "", {})
    listed, _ = await reader.list(original.tenant_id, IntegrationFilters(), page)
    again, _ = await reader.list(original.tenant_id, IntegrationFilters(), page)
    got = await reader.get(original.tenant_id, original.id)
    assert listed[0] == original and again[0] is listed[0] and got is listed[0]

    checked = T0 + timedelta(minutes=1)
    await SqlHealthStore(database).record(
        original.tenant_id,
        HealthCheckResult(original.id, "same", HealthState.HEALTHY, "fine", 5, checked, ""),
    )
    healthy, _ = await reader.list(original.tenant_id, IntegrationFilters(), page)
    assert healthy[0] is not listed[0] and healthy[0].version == original.version
    assert (healthy[0].health_state, healthy[0].health_message) == (HealthState.HEALTHY, "fine")
    assert healthy[0].health_checked_at == checked
    assert await reader.get(original.tenant_id, original.id) is healthy[0]

    renamed = replace(healthy[0], name="renamed", config={"k": "v"}, version=2)
    assert await writer.replace(renamed, expected_version=1)
    newest, _ = await reader.list(original.tenant_id, IntegrationFilters(), page)
    assert newest[0] == renamed and newest[0] is not healthy[0]
    assert await reader.get(original.tenant_id, original.id) is newest[0]

    assert await writer.soft_delete(original.tenant_id, original.id, checked)
    assert await reader.list(original.tenant_id, IntegrationFilters(), page) == ([], 0)
    assert await reader.get(original.tenant_id, original.id) is None


async def test_filtered_lists_reuse_their_statements_with_each_calls_values(
    store: SqlIntegrationStore,
) -> None:
    """The list statements are built once per filter combination; every call's values (tenant,
    filters, key, size) still decide the rows."""
    from dataclasses import replace

    tenant, other = new_tenant(), new_tenant()
    made = []
    for i, (provider, status) in enumerate(
        [(p, s) for p in (ProviderType.GOOGLE, ProviderType.OPENAI)
         for s in (IntegrationStatus.CREATED, IntegrationStatus.ENABLED)] * 2
    ):
        made.append(replace(
            _integration(tenant, f"f{i}", T0 + timedelta(seconds=i)),
            provider_type=provider, status=status,
        ))
    for integration in made + [_integration(other, "theirs")]:
        await store.insert(integration, None)
    for _ in range(2):
        for provider in (None, ProviderType.GOOGLE, ProviderType.OPENAI):
            for status in (None, IntegrationStatus.CREATED, IntegrationStatus.ENABLED):
                filters = IntegrationFilters(status=status, provider_type=provider)
                expected = [
                    i.id for i in made
                    if provider in (None, i.provider_type) and status in (None, i.status)
                ]
                first, total = await store.list(tenant, filters, parse_page(1, "", {}))
                assert total == len(expected) and [i.id for i in first] == expected[:2]
                after = (first[0].create_time, first[0].id)
                rest, total = await store.list(
                    tenant, filters, type(parse_page(1, "", {}))(100, after, "")
                )
                assert total == len(expected) and [i.id for i in rest] == expected[1:]
    theirs, total = await store.list(other, IntegrationFilters(), parse_page(5, "", {}))
    assert ([i.name for i in theirs], total) == (["theirs"], 1)
