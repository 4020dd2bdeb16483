"""IntegrationsService end to end through a real grpc.aio server, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import field_mask_pb2

from drivers.kernel.database import Database
from drivers.tables.integrations import integrations as integrations_table
from drivers.tables.integrations import usage_events as usage_events_table
from integrations.v1 import common_pb2, integrations_pb2_grpc
from integrations.v1 import integrations_pb2 as pb
from tests.service.integrations_helpers import create_integration, integration_message
from tests.support import RunningServer, new_tenant, rich_error, timestamp

Stub = integrations_pb2_grpc.IntegrationsServiceStub


@pytest.fixture
def stub(server: RunningServer) -> Stub:
    return server.stub(Stub)


async def _error(awaitable) -> object:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await awaitable
    return rich_error(caught.value)


async def _total(stub: Stub, tenant: str) -> int:
    reply = await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant))
    return reply.total_size


# --- create / get ---------------------------------------------------------------------------


async def test_create_returns_new_integration_and_get_reads_it(stub: Stub, tenant: str) -> None:
    created = await create_integration(
        stub,
        tenant,
        "anthropic-eu",
        provider_type=pb.PROVIDER_TYPE_ANTHROPIC,
        credential_ref="env://ANTHROPIC_KEY",  # cus-vault:// refs must exist
        default_model="claude-x",
        budget_limit_cents=5000,
        token_limit_month=1_000_000,
        rate_limit_rpm=60,
        config={"base_url": "http://127.0.0.1:9/v1", "region": "eu"},
        status=pb.INTEGRATION_STATUS_ENABLED,  # output only: ignored on create
    )
    assert uuid.UUID(created.id)
    assert created.tenant_id == tenant
    assert created.status == pb.INTEGRATION_STATUS_CREATED
    assert created.health_state != 0 and created.health_state == 1  # HEALTH_STATE_UNKNOWN
    assert not created.HasField("health_checked_at")
    assert created.created_by == "anonymous"
    assert created.create_time == created.update_time
    assert created.etag
    fetched = await stub.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert fetched == created
    assert dict(fetched.config) == {"base_url": "http://127.0.0.1:9/v1", "region": "eu"}


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        pytest.param({"name": ""}, "integration.name", id="empty-name"),
        pytest.param({"name": "n" * 129}, "integration.name", id="long-name"),
        pytest.param(
            {"provider_type": pb.PROVIDER_TYPE_UNSPECIFIED}, "integration.provider_type",
            id="no-provider",
        ),
        pytest.param({"provider_type": 99}, "integration.provider_type", id="unknown-provider"),
        pytest.param({"credential_ref": ""}, "integration.credential_ref", id="no-ref"),
        pytest.param({"credential_ref": "vault://a/b"}, "integration.credential_ref", id="vault"),
        pytest.param({"credential_ref": "env://"}, "integration.credential_ref", id="bare-scheme"),
        pytest.param({"budget_limit_cents": -1}, "integration.budget_limit_cents", id="budget"),
        pytest.param({"token_limit_month": -5}, "integration.token_limit_month", id="tokens"),
        pytest.param({"rate_limit_rpm": -1}, "integration.rate_limit_rpm", id="rpm"),
        pytest.param({"default_model": "m" * 257}, "integration.default_model", id="model"),
        pytest.param({"config": {"api_key": "x"}}, "integration.config.api_key", id="cfg-secret"),
        pytest.param(
            {"config": {"base_url": "ftp://x"}}, "integration.config.base_url", id="cfg-url"
        ),
    ],
)
async def test_create_rejects_bad_input_naming_the_field(
    stub: Stub, tenant: str, fields: dict[str, object], bad_field: str
) -> None:
    fields = dict(fields)  # the parameter dict is shared by both backends' runs
    name = str(fields.pop("name", "valid-name"))
    error = await _error(create_integration(stub, tenant, name, **fields))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_field in error.field_violations, error.field_violations
    assert await _total(stub, tenant) == 0


async def test_create_reports_every_bad_field_at_once(stub: Stub, tenant: str) -> None:
    error = await _error(
        create_integration(stub, tenant, "", credential_ref="raw", rate_limit_rpm=-1)
    )
    assert set(error.field_violations) == {
        "integration.name",
        "integration.credential_ref",
        "integration.rate_limit_rpm",
    }


@pytest.mark.parametrize("tenant_id", ["", "not-a-uuid"])
async def test_tenant_id_must_be_a_uuid(stub: Stub, tenant_id: str) -> None:
    error = await _error(create_integration(stub, tenant_id))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "tenant_id" in error.field_violations


async def test_duplicate_live_name_is_already_exists_until_deleted(stub: Stub, tenant: str) -> None:
    first = await create_integration(stub, tenant, "shared-name")
    error = await _error(create_integration(stub, tenant, "shared-name"))
    assert error.code == grpc.StatusCode.ALREADY_EXISTS
    # Another tenant may use the name.
    await create_integration(stub, new_tenant(), "shared-name")
    await stub.DeleteIntegration(
        pb.DeleteIntegrationRequest(tenant_id=tenant, integration_id=first.id)
    )
    again = await create_integration(stub, tenant, "shared-name")
    assert again.id != first.id


async def test_create_with_request_id_is_idempotent(stub: Stub, tenant: str) -> None:
    first = await create_integration(stub, tenant, "idem", request_id="req-1")
    repeat = await create_integration(stub, tenant, "idem", request_id="req-1")
    assert repeat == first
    assert await _total(stub, tenant) == 1
    # The same request id in another tenant is another request.
    other = await create_integration(stub, new_tenant(), "idem", request_id="req-1")
    assert other.id != first.id


# --- list -----------------------------------------------------------------------------------


async def test_list_pages_in_creation_order_with_opaque_tokens(stub: Stub, tenant: str) -> None:
    created = [(await create_integration(stub, tenant, f"int-{i:02d}")).id for i in range(25)]
    seen: list[str] = []
    token = ""
    sizes = []
    while True:
        reply = await stub.ListIntegrations(
            pb.ListIntegrationsRequest(tenant_id=tenant, page_size=10, page_token=token)
        )
        assert reply.total_size == 25
        sizes.append(len(reply.integrations))
        seen += [i.id for i in reply.integrations]
        token = reply.next_page_token
        if not token:
            break
    assert sizes == [10, 10, 5]
    assert seen == created
    default = await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant))
    assert len(default.integrations) == 20 and default.next_page_token
    capped = await stub.ListIntegrations(
        pb.ListIntegrationsRequest(tenant_id=tenant, page_size=1000)
    )
    assert len(capped.integrations) == 25 and not capped.next_page_token


async def test_list_refuses_bad_paging(stub: Stub, tenant: str) -> None:
    await create_integration(stub, tenant, "a")
    await create_integration(stub, tenant, "b")
    first = await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant, page_size=1))
    negative = await _error(
        stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant, page_size=-1))
    )
    assert negative.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_size" in negative.field_violations
    garbage = await _error(
        stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=tenant, page_token="zz!"))
    )
    assert "page_token" in garbage.field_violations
    other_filter = await _error(
        stub.ListIntegrations(
            pb.ListIntegrationsRequest(
                tenant_id=tenant,
                page_token=first.next_page_token,
                status=pb.INTEGRATION_STATUS_ENABLED,
            )
        )
    )
    assert other_filter.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in other_filter.field_violations
    other_tenant = await _error(
        stub.ListIntegrations(
            pb.ListIntegrationsRequest(tenant_id=new_tenant(), page_token=first.next_page_token)
        )
    )
    assert "page_token" in other_tenant.field_violations


async def test_list_filters_by_status_and_provider(stub: Stub, tenant: str) -> None:
    openai = await create_integration(stub, tenant, "o")
    anthropic = await create_integration(
        stub, tenant, "a", provider_type=pb.PROVIDER_TYPE_ANTHROPIC
    )
    await stub.EnableIntegration(
        pb.EnableIntegrationRequest(tenant_id=tenant, integration_id=anthropic.id)
    )
    by_status = await stub.ListIntegrations(
        pb.ListIntegrationsRequest(tenant_id=tenant, status=pb.INTEGRATION_STATUS_ENABLED)
    )
    assert [i.id for i in by_status.integrations] == [anthropic.id]
    by_provider = await stub.ListIntegrations(
        pb.ListIntegrationsRequest(tenant_id=tenant, provider_type=pb.PROVIDER_TYPE_OPENAI)
    )
    assert [i.id for i in by_provider.integrations] == [openai.id]
    assert by_provider.total_size == 1


# --- update ---------------------------------------------------------------------------------


async def test_update_with_mask_writes_only_masked_fields(stub: Stub, tenant: str) -> None:
    created = await create_integration(stub, tenant, "before", default_model="m1")
    updated = await stub.UpdateIntegration(
        pb.UpdateIntegrationRequest(
            tenant_id=tenant,
            integration=pb.Integration(id=created.id, name="after", default_model="ignored"),
            update_mask=field_mask_pb2.FieldMask(paths=["name"]),
        )
    )
    assert updated.name == "after"
    assert updated.default_model == "m1"
    assert updated.etag != created.etag
    assert updated.update_time.ToDatetime() > created.update_time.ToDatetime()
    cleared = await stub.UpdateIntegration(
        pb.UpdateIntegrationRequest(
            tenant_id=tenant,
            integration=pb.Integration(id=created.id),
            update_mask=field_mask_pb2.FieldMask(paths=["default_model", "rate_limit_rpm"]),
        )
    )
    assert cleared.default_model == "" and cleared.rate_limit_rpm == 0


async def test_update_without_mask_writes_populated_fields_and_ignores_output_only(
    stub: Stub, tenant: str
) -> None:
    created = await create_integration(stub, tenant, "x", rate_limit_rpm=10)
    sent = pb.Integration()
    sent.CopyFrom(created)
    sent.budget_limit_cents = 777
    sent.status = pb.INTEGRATION_STATUS_ENABLED
    sent.health_message = "forged"
    updated = await stub.UpdateIntegration(
        pb.UpdateIntegrationRequest(tenant_id=tenant, integration=sent)
    )
    assert updated.budget_limit_cents == 777
    assert updated.rate_limit_rpm == 10
    assert updated.status == pb.INTEGRATION_STATUS_CREATED
    assert updated.health_message == created.health_message


@pytest.mark.parametrize("path", ["status", "health_state", "create_time", "id", "nonsense"])
async def test_update_mask_naming_output_only_or_unknown_fields_is_invalid(
    stub: Stub, tenant: str, path: str
) -> None:
    created = await create_integration(stub, tenant)
    error = await _error(
        stub.UpdateIntegration(
            pb.UpdateIntegrationRequest(
                tenant_id=tenant,
                integration=pb.Integration(id=created.id, name="n"),
                update_mask=field_mask_pb2.FieldMask(paths=[path]),
            )
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert f"update_mask.{path}" in error.field_violations


async def test_update_with_stale_etag_is_aborted_and_changes_nothing(
    stub: Stub, tenant: str
) -> None:
    created = await create_integration(stub, tenant, "v1")
    await stub.UpdateIntegration(
        pb.UpdateIntegrationRequest(
            tenant_id=tenant,
            integration=pb.Integration(id=created.id, name="v2", etag=created.etag),
        )
    )
    error = await _error(
        stub.UpdateIntegration(
            pb.UpdateIntegrationRequest(
                tenant_id=tenant,
                integration=pb.Integration(id=created.id, name="v3", etag=created.etag),
            )
        )
    )
    assert error.code == grpc.StatusCode.ABORTED
    assert error.reason == "ETAG_MISMATCH"
    current = await stub.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert current.name == "v2"


async def test_update_with_bad_values_leaves_the_stored_integration_intact(
    stub: Stub, tenant: str
) -> None:
    created = await create_integration(stub, tenant, "keep")
    await create_integration(stub, tenant, "taken")
    for integration, paths, code in [
        (pb.Integration(id=created.id, rate_limit_rpm=5), ["name", "rate_limit_rpm"],
         "INVALID_ARGUMENT"),
        (pb.Integration(id=created.id, credential_ref="sk-raw"), ["credential_ref"],
         "INVALID_ARGUMENT"),
        (pb.Integration(id=created.id, name="taken"), ["name"], "ALREADY_EXISTS"),
    ]:
        error = await _error(
            stub.UpdateIntegration(
                pb.UpdateIntegrationRequest(
                    tenant_id=tenant,
                    integration=integration,
                    update_mask=field_mask_pb2.FieldMask(paths=paths),
                )
            )
        )
        assert error.code.name == code
    current = await stub.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert current == created


async def test_update_with_nothing_to_write_is_invalid(stub: Stub, tenant: str) -> None:
    created = await create_integration(stub, tenant)
    error = await _error(
        stub.UpdateIntegration(
            pb.UpdateIntegrationRequest(tenant_id=tenant, integration=pb.Integration(id=created.id))
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "integration" in error.field_violations


async def test_concurrent_updates_with_one_etag_let_exactly_one_win(
    stub: Stub, tenant: str
) -> None:
    import asyncio

    created = await create_integration(stub, tenant, "race")

    async def attempt(i: int) -> str:
        try:
            reply = await stub.UpdateIntegration(
                pb.UpdateIntegrationRequest(
                    tenant_id=tenant,
                    integration=pb.Integration(
                        id=created.id, default_model=f"model-{i}", etag=created.etag
                    ),
                )
            )
            return f"ok:{reply.default_model}"
        except grpc.aio.AioRpcError as exc:
            return exc.code().name

    outcomes = await asyncio.gather(*(attempt(i) for i in range(20)))
    winners = [o for o in outcomes if o.startswith("ok:")]
    assert len(winners) == 1, outcomes
    assert outcomes.count("ABORTED") == 19
    final = await stub.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert f"ok:{final.default_model}" == winners[0]


async def test_concurrent_updates_without_etag_are_all_applied(stub: Stub, tenant: str) -> None:
    import asyncio

    created = await create_integration(stub, tenant, "merge", config={})
    fields = ["budget_limit_cents", "token_limit_month", "rate_limit_rpm"]
    await asyncio.gather(
        *(
            stub.UpdateIntegration(
                pb.UpdateIntegrationRequest(
                    tenant_id=tenant,
                    integration=pb.Integration(id=created.id, **{field: 42}),
                    update_mask=field_mask_pb2.FieldMask(paths=[field]),
                )
            )
            for field in fields
        )
    )
    final = await stub.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert [getattr(final, f) for f in fields] == [42, 42, 42]


# --- delete / lifecycle ---------------------------------------------------------------------


async def test_delete_hides_the_integration_but_keeps_the_record(
    stub: Stub, tenant: str, database_url: str
) -> None:
    created = await create_integration(stub, tenant)
    await stub.RecordUsage(
        pb.RecordUsageRequest(tenant_id=tenant, integration_id=created.id, tokens=5)
    )
    reply = await stub.DeleteIntegration(
        pb.DeleteIntegrationRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert reply.deleted and reply.integration_id == created.id
    for call in (
        stub.GetIntegration(pb.GetIntegrationRequest(tenant_id=tenant, integration_id=created.id)),
        stub.DeleteIntegration(
            pb.DeleteIntegrationRequest(tenant_id=tenant, integration_id=created.id)
        ),
    ):
        assert (await _error(call)).code == grpc.StatusCode.NOT_FOUND
    assert await _total(stub, tenant) == 0
    database = Database(database_url)
    try:
        async with database.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(integrations_table.c.delete_time).where(
                        integrations_table.c.id == created.id
                    )
                )
            ).one()
            usage = (
                await conn.execute(
                    sa.text("SELECT count(*) FROM usage_events WHERE integration_id = :i"),
                    {"i": created.id},
                )
            ).scalar_one()
    finally:
        await database.dispose()
    assert row.delete_time is not None
    assert usage == 1


async def test_enable_and_disable_transitions(stub: Stub, tenant: str) -> None:
    created = await create_integration(stub, tenant)
    ids = {"tenant_id": tenant, "integration_id": created.id}
    enabled = await stub.EnableIntegration(pb.EnableIntegrationRequest(**ids))
    assert (enabled.status, enabled.message) == (pb.INTEGRATION_STATUS_ENABLED, "enabled")
    again = await stub.EnableIntegration(pb.EnableIntegrationRequest(**ids))
    assert (again.status, again.message) == (pb.INTEGRATION_STATUS_ENABLED, "already enabled")
    disabled = await stub.DisableIntegration(pb.DisableIntegrationRequest(**ids))
    assert (disabled.status, disabled.message) == (pb.INTEGRATION_STATUS_DISABLED, "disabled")
    stored = await stub.GetIntegration(pb.GetIntegrationRequest(**ids))
    assert stored.status == pb.INTEGRATION_STATUS_DISABLED


async def test_enabling_an_integration_in_error_is_failed_precondition(
    stub: Stub, tenant: str, database_url: str
) -> None:
    created = await create_integration(stub, tenant)
    database = Database(database_url)
    try:
        async with database.transaction() as conn:
            await conn.execute(
                integrations_table.update()
                .where(integrations_table.c.id == created.id)
                .values(status="error")
            )
    finally:
        await database.dispose()
    ids = {"tenant_id": tenant, "integration_id": created.id}
    error = await _error(stub.EnableIntegration(pb.EnableIntegrationRequest(**ids)))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "INTEGRATION_IN_ERROR"
    assert (await stub.GetIntegration(pb.GetIntegrationRequest(**ids))).status == (
        pb.INTEGRATION_STATUS_ERROR
    )
    # The way out: disable, then enable.
    await stub.DisableIntegration(pb.DisableIntegrationRequest(**ids))
    enabled = await stub.EnableIntegration(pb.EnableIntegrationRequest(**ids))
    assert enabled.status == pb.INTEGRATION_STATUS_ENABLED


async def test_get_health_status_reports_the_stored_state(stub: Stub, tenant: str) -> None:
    created = await create_integration(stub, tenant)
    reply = await stub.GetHealthStatus(
        pb.GetHealthStatusRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert reply.integration_id == created.id
    assert reply.health_state == 1  # HEALTH_STATE_UNKNOWN
    assert not reply.HasField("health_checked_at")


# --- limits and usage -----------------------------------------------------------------------


async def test_limits_status_sums_the_current_month_and_the_last_minute(
    stub: Stub, tenant: str
) -> None:
    created = await create_integration(
        stub, tenant, budget_limit_cents=1000, token_limit_month=0, rate_limit_rpm=4
    )
    now = datetime.now(timezone.utc)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    events = [
        (now, 100, 250),
        (now - timedelta(seconds=5), 50, 125),
        (month_start, 10, 25),  # first instant of the month counts
        (month_start - timedelta(microseconds=1), 999, 999),  # last month does not
    ]
    for occurred, tokens, cost in events:
        await stub.RecordUsage(
            pb.RecordUsageRequest(
                tenant_id=tenant, integration_id=created.id, tokens=tokens, cost_cents=cost,
                occurred_at=timestamp(occurred),
            )
        )
    reply = await stub.GetLimitsStatus(
        pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert reply.budget_used_cents == 400
    assert reply.budget_percent == pytest.approx(40.0)
    assert reply.tokens_used_month == 160
    assert reply.token_percent == 0.0  # unlimited
    recent = 2 + (1 if now - month_start < timedelta(seconds=60) else 0)
    assert reply.requests_this_minute == recent
    assert reply.rate_percent == pytest.approx(min(100.0, recent * 25.0))
    assert reply.period_start.ToDatetime(tzinfo=timezone.utc) == month_start
    assert reply.period_end.ToDatetime(tzinfo=timezone.utc) > now


async def test_limit_percentages_are_capped_at_100(stub: Stub, tenant: str) -> None:
    created = await create_integration(stub, tenant, budget_limit_cents=10, rate_limit_rpm=1)
    for _ in range(3):
        await stub.RecordUsage(
            pb.RecordUsageRequest(tenant_id=tenant, integration_id=created.id, cost_cents=20)
        )
    reply = await stub.GetLimitsStatus(
        pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert reply.budget_used_cents == 60
    assert reply.budget_percent == 100.0
    assert reply.rate_percent == 100.0


async def test_record_usage_is_idempotent_on_request_id(stub: Stub, tenant: str) -> None:
    created = await create_integration(stub, tenant)
    request = pb.RecordUsageRequest(
        tenant_id=tenant, integration_id=created.id, tokens=7, cost_cents=3, request_id="u-1"
    )
    first = await stub.RecordUsage(request)
    second = await stub.RecordUsage(request)
    assert first.recorded and not second.recorded
    assert first.usage_event_id == second.usage_event_id
    limits = await stub.GetLimitsStatus(
        pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert limits.tokens_used_month == 7


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        pytest.param({"tokens": -1}, "tokens", id="tokens"),
        pytest.param({"cost_cents": -1}, "cost_cents", id="cost"),
        pytest.param({"tokens": 10**12 + 1}, "tokens", id="tokens-above-bound"),
        pytest.param({"cost_cents": 2**63 - 1}, "cost_cents", id="cost-int64-max"),
        pytest.param(
            {"occurred_at": timestamp(datetime.now(timezone.utc) + timedelta(hours=1))},
            "occurred_at",
            id="future",
        ),
        pytest.param({"request_id": "r" * 129}, "request_id", id="request-id"),
    ],
)
async def test_record_usage_rejects_bad_input(
    stub: Stub, tenant: str, fields: dict[str, object], bad_field: str
) -> None:
    created = await create_integration(stub, tenant)
    error = await _error(
        stub.RecordUsage(
            pb.RecordUsageRequest(tenant_id=tenant, integration_id=created.id, **fields)
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_field in error.field_violations
    limits = await stub.GetLimitsStatus(
        pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
    )
    assert limits.requests_this_minute == 0


async def test_usage_at_the_bound_and_sums_beyond_int64_still_answer(
    stub: Stub, tenant: str, server: RunningServer
) -> None:
    created = await create_integration(stub, tenant, budget_limit_cents=1, token_limit_month=1)
    recorded = await stub.RecordUsage(
        pb.RecordUsageRequest(
            tenant_id=tenant, integration_id=created.id, tokens=10**12, cost_cents=10**12
        )
    )
    assert recorded.recorded
    # Events recorded before the bound existed, summing past int64 (2 x (2^63 - 1) each).
    database = Database(server.database_url)
    try:
        async with database.transaction() as conn:
            for _ in range(2):
                await conn.execute(
                    usage_events_table.insert().values(
                        id=str(uuid.uuid4()), tenant_id=tenant, integration_id=created.id,
                        tokens=2**63 - 1, cost_cents=2**63 - 1,
                        occurred_at=datetime.now(timezone.utc),
                        create_time=datetime.now(timezone.utc),
                    )
                )
    finally:
        await database.dispose()
    for _ in range(2):  # not once: the month stays readable
        reply = await stub.GetLimitsStatus(
            pb.GetLimitsStatusRequest(tenant_id=tenant, integration_id=created.id)
        )
        assert reply.tokens_used_month == reply.budget_used_cents == 2**63 - 1
        assert reply.token_percent == reply.budget_percent == 100.0
        assert reply.requests_this_minute == 3


# --- tenant isolation -----------------------------------------------------------------------


def _calls_naming(tenant: str, integration_id: str):  # type: ignore[no-untyped-def]
    ids = {"tenant_id": tenant, "integration_id": integration_id}
    return {
        "GetIntegration": pb.GetIntegrationRequest(**ids),
        "UpdateIntegration": pb.UpdateIntegrationRequest(
            tenant_id=tenant, integration=pb.Integration(id=integration_id, name="stolen")
        ),
        "DeleteIntegration": pb.DeleteIntegrationRequest(**ids),
        "EnableIntegration": pb.EnableIntegrationRequest(**ids),
        "DisableIntegration": pb.DisableIntegrationRequest(**ids),
        "GetHealthStatus": pb.GetHealthStatusRequest(**ids),
        "TestCredentials": pb.TestCredentialsRequest(**ids),
        "GetLimitsStatus": pb.GetLimitsStatusRequest(**ids),
        "RecordUsage": pb.RecordUsageRequest(**ids, tokens=1),
    }


async def test_another_tenants_integration_is_not_found_in_every_rpc(
    stub: Stub, tenant: str, other_tenant: str
) -> None:
    owned = await create_integration(stub, tenant, "private", request_id="owner-req")
    missing_id = str(uuid.uuid4())
    for method, request in _calls_naming(other_tenant, owned.id).items():
        error = await _error(getattr(stub, method)(request))
        assert error.code == grpc.StatusCode.NOT_FOUND, method
        missing = await _error(
            getattr(stub, method)(_calls_naming(other_tenant, missing_id)[method])
        )
        assert error.message == missing.message.replace(missing_id, owned.id), method
    listed = await stub.ListIntegrations(pb.ListIntegrationsRequest(tenant_id=other_tenant))
    assert listed.total_size == 0 and not listed.integrations
    # A create with the owner's request id in another tenant does not return the owner's row.
    other = await create_integration(stub, other_tenant, "private", request_id="owner-req")
    assert other.id != owned.id and other.tenant_id == other_tenant
    # The owner's integration is untouched by all of the above.
    after = await stub.GetIntegration(
        pb.GetIntegrationRequest(tenant_id=tenant, integration_id=owned.id)
    )
    assert after == owned


async def test_test_credentials_probes_and_stores_the_result(stub: Stub, tenant: str) -> None:
    # Wired to the health engine (probes in depth: tests/service/test_health.py). An
    # unresolvable key is found before any request leaves the machine.
    created = await create_integration(stub, tenant, credential_ref="env://INTEGRATIONS_UNSET_KEY")
    ids = {"tenant_id": tenant, "integration_id": created.id}
    tested = await stub.TestCredentials(pb.TestCredentialsRequest(**ids))
    assert tested.health_state == common_pb2.HEALTH_STATE_UNHEALTHY
    assert "credential" in tested.message and tested.HasField("checked_at")
    stored = await stub.GetHealthStatus(pb.GetHealthStatusRequest(**ids))
    assert (stored.health_state, stored.health_checked_at) == (
        tested.health_state, tested.checked_at
    )


def test_integration_message_helper_sets_config() -> None:
    message = integration_message("n", config={"a": 1})
    assert message.config["a"] == 1


async def test_lists_show_every_change_of_a_row_they_answered_before(
    stub: Stub, tenant: str, database_url: str
) -> None:
    """Lists encode each integration once (docs/consistency.md, "List responses"): a row
    changed without a version bump (a probe's result, here written directly as another
    replica's would be) is listed as it now is, and an update is listed and got at once."""
    created = await create_integration(stub, tenant, "listed", config={"a": 1})
    ids = {"tenant_id": tenant, "integration_id": created.id}
    listing = pb.ListIntegrationsRequest(tenant_id=tenant)
    first = await stub.ListIntegrations(listing)
    assert list(first.integrations) == [await stub.GetIntegration(pb.GetIntegrationRequest(**ids))]
    assert await stub.ListIntegrations(listing) == first

    checked = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    database = Database(database_url)
    try:
        async with database.transaction() as conn:
            await conn.execute(
                integrations_table.update()
                .where(integrations_table.c.id == created.id)
                .values(health_state="healthy", health_message="fine", health_checked_at=checked)
            )
    finally:
        await database.dispose()
    probed = (await stub.ListIntegrations(listing)).integrations[0]
    assert (probed.health_state, probed.health_message) == (common_pb2.HEALTH_STATE_HEALTHY, "fine")
    assert probed.health_check_time == timestamp(checked) and probed.etag == created.etag

    updated = await stub.UpdateIntegration(
        pb.UpdateIntegrationRequest(
            tenant_id=tenant,
            integration=pb.Integration(id=created.id, name="renamed", etag=created.etag),
            update_mask=field_mask_pb2.FieldMask(paths=["name"]),
        )
    )
    listed = (await stub.ListIntegrations(listing)).integrations[0]
    assert (listed.name, listed.etag) == ("renamed", updated.etag) != ("listed", created.etag)
    assert listed.health_message == "fine"  # the update does not write health
    assert await stub.GetIntegration(pb.GetIntegrationRequest(**ids)) == listed
    await stub.DeleteIntegration(pb.DeleteIntegrationRequest(**ids))
    assert list((await stub.ListIntegrations(listing)).integrations) == []
