"""IntegrationsEngine rules with an in-memory store and a manual clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from engines.credentials.refs import SCHEMES, check_credential_ref
from engines.integrations.integration import (
    IntegrationDraft,
    IntegrationFilters,
    IntegrationsEngine,
    IntegrationStatus,
    ProviderType,
    month_bounds,
)
from engines.kernel.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unimplemented,
)
from tests.support import new_tenant
from tests.unit.fakes import FakeIntegrationStore, ManualClock

T0 = datetime(2026, 3, 31, 23, 59, 30, tzinfo=timezone.utc)


def _draft(name: str = "prod", **kwargs: object) -> IntegrationDraft:
    values: dict[str, object] = {
        "name": name,
        "provider_type": ProviderType.OPENAI,
        "credential_ref": "encrypted://v1/abc",
    }
    values.update(kwargs)
    return IntegrationDraft(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def store() -> FakeIntegrationStore:
    return FakeIntegrationStore()


@pytest.fixture
def engine(store: FakeIntegrationStore, clock: ManualClock) -> IntegrationsEngine:
    return IntegrationsEngine(store, clock=clock)


async def test_create_starts_created_unknown_and_trims_name(engine: IntegrationsEngine) -> None:
    tenant = new_tenant()
    created = await engine.create(tenant, _draft("  spaced  "), created_by="svc")
    assert created.name == "spaced"
    assert created.status is IntegrationStatus.CREATED
    assert created.create_time == T0 and created.created_by == "svc"


@pytest.mark.parametrize(
    "ref",
    ["sk-abc", "https://x", "vault://a", "env://", "cus-vault://", "env://A B", " "],
)
def test_credential_refs_other_than_the_three_schemes_are_refused_without_echo(ref: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_credential_ref("credential_ref", ref)
    if ref.strip() not in ("", *SCHEMES):
        assert ref.strip() not in caught.value.message


@pytest.mark.parametrize("ref", ["encrypted://v1.abc", "cus-vault://t/i", "env://OPENAI_KEY"])
def test_the_three_schemes_are_accepted(ref: str) -> None:
    assert check_credential_ref("credential_ref", ref) == ref


async def test_cus_vault_refs_must_exist_for_the_tenant(store: FakeIntegrationStore) -> None:
    known = {("t", "cus-vault://t/1")}

    async def check(tenant_id: str, ref: str) -> bool:
        return ("t", ref) in known and tenant_id == tenant_id

    engine = IntegrationsEngine(store, credential_ref_check=check)
    tenant = new_tenant()
    with pytest.raises(InvalidArgument) as caught:
        await engine.create(tenant, _draft(credential_ref="cus-vault://t/2"), created_by="x")
    assert "integration.credential_ref" in {v.field for v in caught.value.violations}
    created = await engine.create(tenant, _draft(credential_ref="cus-vault://t/1"), created_by="x")
    assert created.credential_ref == "cus-vault://t/1"


async def test_update_with_stale_etag_is_aborted(engine: IntegrationsEngine) -> None:
    tenant = new_tenant()
    created = await engine.create(tenant, _draft(), created_by="x")
    first = await engine.update(tenant, created.id, {"name": "b"}, created.etag)
    assert first.version == created.version + 1 and first.etag != created.etag
    with pytest.raises(Aborted):
        await engine.update(tenant, created.id, {"name": "c"}, created.etag)


async def test_update_without_etag_retries_a_lost_race(
    store: FakeIntegrationStore, engine: IntegrationsEngine
) -> None:
    tenant = new_tenant()
    created = await engine.create(tenant, _draft(), created_by="x")
    original_replace = store.replace
    raced = False

    async def racing_replace(integration, expected_version):  # type: ignore[no-untyped-def]
        nonlocal raced
        if not raced:  # someone else writes between our read and our write
            raced = True
            theirs = replace(
                store.rows[integration.id], rate_limit_rpm=9, version=expected_version + 1
            )
            await original_replace(theirs, expected_version)
        return await original_replace(integration, expected_version)

    store.replace = racing_replace  # type: ignore[method-assign]
    updated = await engine.update(tenant, created.id, {"budget_limit_cents": 5}, "")
    assert (updated.rate_limit_rpm, updated.budget_limit_cents) == (9, 5)


async def test_names_are_unique_among_live_integrations(engine: IntegrationsEngine) -> None:
    tenant = new_tenant()
    first = await engine.create(tenant, _draft("n"), created_by="x")
    with pytest.raises(AlreadyExists):
        await engine.create(tenant, _draft("n"), created_by="x")
    await engine.delete(tenant, first.id)
    with pytest.raises(NotFound):
        await engine.get(tenant, first.id)
    assert (await engine.create(tenant, _draft("n"), created_by="x")).id != first.id


async def test_lifecycle(engine: IntegrationsEngine, store: FakeIntegrationStore) -> None:
    tenant = new_tenant()
    created = await engine.create(tenant, _draft(), created_by="x")
    enabled, message = await engine.enable(tenant, created.id)
    assert enabled.status is IntegrationStatus.ENABLED and message == "enabled"
    store.rows[created.id] = replace(store.rows[created.id], status=IntegrationStatus.ERROR)
    with pytest.raises(FailedPrecondition) as caught:
        await engine.enable(tenant, created.id)
    assert caught.value.reason == "INTEGRATION_IN_ERROR"
    disabled, _ = await engine.disable(tenant, created.id)
    assert disabled.status is IntegrationStatus.DISABLED


async def test_limits_cover_the_utc_month_and_the_last_60_seconds(
    engine: IntegrationsEngine, clock: ManualClock
) -> None:
    tenant = new_tenant()
    created = await engine.create(
        tenant, _draft(budget_limit_cents=200, token_limit_month=1000, rate_limit_rpm=2),
        created_by="x",
    )
    for offset, tokens, cost in [(0, 100, 50), (-59, 10, 10), (-61, 1, 1), (-24 * 3600 * 40, 5, 5)]:
        await engine.record_usage(
            tenant, created.id, tokens=tokens, cost_cents=cost,
            occurred_at=T0 + timedelta(seconds=offset),
        )
    status = await engine.limits_status(tenant, created.id)
    assert (status.period_start, status.period_end) == month_bounds(T0)
    assert status.tokens_used_month == 111 and status.budget_used_cents == 61
    assert status.token_percent == pytest.approx(11.1)
    assert status.budget_percent == pytest.approx(30.5)
    assert status.requests_this_minute == 2 and status.rate_percent == 100.0
    clock.now = T0 + timedelta(seconds=31)  # now April: March usage no longer counts
    april = await engine.limits_status(tenant, created.id)
    assert april.tokens_used_month == 0 and april.requests_this_minute == 1


def test_month_bounds_wrap_december() -> None:
    start, end = month_bounds(datetime(2026, 12, 15, tzinfo=timezone.utc))
    assert (start.month, end.year, end.month, end.day) == (12, 2027, 1, 1)


async def test_record_usage_validates_before_touching_the_store(
    engine: IntegrationsEngine, store: FakeIntegrationStore
) -> None:
    tenant = new_tenant()
    created = await engine.create(tenant, _draft(), created_by="x")
    with pytest.raises(InvalidArgument) as caught:
        await engine.record_usage(
            tenant, created.id, tokens=-1, cost_cents=-1, occurred_at=T0 + timedelta(minutes=6)
        )
    assert {v.field for v in caught.value.violations} == {"tokens", "cost_cents", "occurred_at"}
    assert store.usage == []


async def test_list_pages_and_filters(engine: IntegrationsEngine, clock: ManualClock) -> None:
    tenant = new_tenant()
    for i in range(5):
        clock.now = T0 + timedelta(seconds=i)
        await engine.create(tenant, _draft(f"n{i}"), created_by="x")
    first = await engine.list(tenant, 2, "", IntegrationFilters())
    second = await engine.list(tenant, 2, first.next_page_token, IntegrationFilters())
    assert [i.name for i in first.items + list(second.items)] == ["n0", "n1", "n2", "n3"]
    assert first.total_size == 5
    with pytest.raises(InvalidArgument):
        await engine.list(
            tenant, 2, first.next_page_token, IntegrationFilters(provider_type=ProviderType.GOOGLE)
        )


async def test_test_credentials_without_a_health_tester_is_unimplemented(
    engine: IntegrationsEngine,
) -> None:
    tenant = new_tenant()
    created = await engine.create(tenant, _draft(), created_by="x")
    with pytest.raises(Unimplemented):
        await engine.test_credentials(tenant, created.id)
