"""Timestamp fields renamed to the `*_time` convention (AIP-142): responses carry the new and
the deprecated name with one value; requests accept either, and refuse both set apart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, health_pb2, health_pb2_grpc, integrations_pb2_grpc
from integrations.v1 import integrations_pb2 as ipb
from tests.fake_provider import FakeProvider, fake_provider
from tests.secrets_registry import register_secret
from tests.service.admission_helpers import enabled_integration
from tests.support import RunningServer, rich_error, timestamp

KEY_ENV = "DEV_RENAMED_TIMES_PROVIDER_KEY"
PROVIDER_KEY = register_secret("sk-renamed-" + uuid.uuid4().hex)


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeProvider]:
    monkeypatch.setenv(KEY_ENV, PROVIDER_KEY)
    async with fake_provider() as running:
        yield running


def _days_ago(days: int) -> datetime:
    now = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    return now - timedelta(days=days)


async def test_usage_times_are_read_from_either_name(server: RunningServer, tenant: str) -> None:
    integrations = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    admission = server.stub(admission_pb2_grpc.AdmissionServiceStub)
    integration = await enabled_integration(integrations, tenant)
    old, new = _days_ago(3), _days_ago(2)
    batch = await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(tenant_id=tenant, events=[
        pb.UsageEventInput(integration_id=integration, call_id="new", input_tokens=1,
                           event_time=timestamp(new)),
        pb.UsageEventInput(integration_id=integration, call_id="old", input_tokens=2,
                           occurred_at=timestamp(old)),
        pb.UsageEventInput(integration_id=integration, call_id="both", input_tokens=4,
                           event_time=timestamp(new), occurred_at=timestamp(new)),
        pb.UsageEventInput(integration_id=integration, call_id="apart", input_tokens=8,
                           event_time=timestamp(new), occurred_at=timestamp(old)),
        pb.UsageEventInput(integration_id=integration, call_id="after", input_tokens=-1),
    ]))
    assert [r.status for r in batch.results][:3] == [pb.USAGE_EVENT_STATUS_RECORDED] * 3
    assert batch.results[3].error_reason == "INVALID_ARGUMENT"
    assert "events[3].event_time" in batch.results[3].error_message
    assert "occurred_at" in batch.results[3].error_message
    assert "events[4].input_tokens" in batch.results[4].error_message  # indices stay put

    await integrations.RecordUsage(ipb.RecordUsageRequest(
        tenant_id=tenant, integration_id=integration, tokens=16, occurred_at=timestamp(old)))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await integrations.RecordUsage(ipb.RecordUsageRequest(
            tenant_id=tenant, integration_id=integration, tokens=32,
            event_time=timestamp(new), occurred_at=timestamp(old)))
    refused = rich_error(caught.value)
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(refused.field_violations) == ["event_time"]

    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(
        tenant_id=tenant, start_time=timestamp(_days_ago(4)), group_by=[pb.USAGE_GROUP_BY_DAY]))
    by_day = {row.day: row.tokens for row in summary.rows}
    assert by_day == {old.date().isoformat(): 2 + 16, new.date().isoformat(): 1 + 4}


async def test_responses_carry_both_names(
    server: RunningServer, tenant: str, provider: FakeProvider
) -> None:
    integrations = server.stub(integrations_pb2_grpc.IntegrationsServiceStub)
    health = server.stub(health_pb2_grpc.IntegrationHealthServiceStub)
    integration = await enabled_integration(
        integrations, tenant, credential_ref=f"env://{KEY_ENV}",
        config={"base_url": provider.route("p", status=200)},
    )
    status = await integrations.GetHealthStatus(
        ipb.GetHealthStatusRequest(tenant_id=tenant, integration_id=integration))
    assert not status.HasField("health_check_time") and not status.HasField("health_checked_at")

    tested = await integrations.TestCredentials(
        ipb.TestCredentialsRequest(tenant_id=tenant, integration_id=integration))
    status = await integrations.GetHealthStatus(
        ipb.GetHealthStatusRequest(tenant_id=tenant, integration_id=integration))
    got = await integrations.GetIntegration(
        ipb.GetIntegrationRequest(tenant_id=tenant, integration_id=integration))
    history = await health.ListHealthChecks(
        health_pb2.ListHealthChecksRequest(tenant_id=tenant, integration_id=integration))
    summary = await health.GetHealthSummary(health_pb2.GetHealthSummaryRequest(tenant_id=tenant))
    pairs = [
        (tested.check_time, tested.checked_at),
        (status.health_check_time, status.health_checked_at),
        (got.health_check_time, got.health_checked_at),
        (history.health_checks[0].check_time, history.health_checks[0].checked_at),
        (summary.check_time, summary.checked_at),
    ]
    assert all(new.seconds > 0 and new == old for new, old in pairs)
    assert tested.check_time == status.health_check_time == history.health_checks[0].check_time
