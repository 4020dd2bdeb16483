"""Limit events raised by recorded usage on both backends: SettleCall (actual cost above the
estimate), RecordUsage and RecordUsageBatch store the thresholds their usage reaches, once per
threshold and period, per model too; repeats raise nothing; watchers are woken; other tenants
see nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.conftest import serve_config
from tests.service.admission_helpers import admit, enabled_integration, set_policy, settle
from tests.service.servers import started
from tests.support import RunningServer

Admission = admission_pb2_grpc.AdmissionServiceStub
Integrations = integrations_pb2_grpc.IntegrationsServiceStub


@pytest.fixture
def admission(server: RunningServer) -> Admission:
    return server.stub(Admission)


@pytest.fixture
def integrations(server: RunningServer) -> Integrations:
    return server.stub(Integrations)


async def listed(admission: Admission, tenant: str, integration_id: str = "") -> list[pb.LimitEvent]:
    response = await admission.ListLimitEvents(
        pb.ListLimitEventsRequest(tenant_id=tenant, integration_id=integration_id)
    )
    return list(response.limit_events)


def keys(events: list[pb.LimitEvent]) -> list[tuple[int, str, int]]:
    return sorted((e.kind, e.model, e.threshold_percent) for e in events)


def usage(integration: str, call_id: str, **fields: object) -> pb.UsageEventInput:
    return pb.UsageEventInput(integration_id=integration, call_id=call_id, **fields)  # type: ignore[arg-type]


async def record_usage(
    integrations: Integrations, tenant: str, integration: str, **fields: object
) -> integrations_pb2.RecordUsageResponse:
    return await integrations.RecordUsage(integrations_pb2.RecordUsageRequest(
        tenant_id=tenant, integration_id=integration, **fields  # type: ignore[arg-type]
    ))


async def test_settling_above_the_estimate_raises_each_threshold_once(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await admit(admission, tenant, integration, "a", estimated_cost_cents=10)
    assert await listed(admission, tenant) == []
    await settle(admission, tenant, "a", cost_cents=85)  # the estimate said 10: now 85 of 100
    [warn] = await listed(admission, tenant)
    assert (warn.kind, warn.threshold_percent, warn.integration_id, warn.model) == (
        pb.LIMIT_KIND_BUDGET, 80, integration, ""
    )
    assert (warn.used, warn.reserved, warn.limit) == (85, 0, 100)
    again = await settle(admission, tenant, "a", cost_cents=85)  # an idempotent repeat
    assert not again.recorded
    assert [e.id for e in await listed(admission, tenant)] == [warn.id]
    await admit(admission, tenant, integration, "b", estimated_cost_cents=5)  # 90: 80% again
    assert [e.id for e in await listed(admission, tenant)] == [warn.id]
    await settle(admission, tenant, "b", cost_cents=20)  # 105 of 100
    events = await listed(admission, tenant)
    assert [e.threshold_percent for e in events] == [100, 80]
    assert (events[0].used, events[0].reserved) == (105, 0)
    await settle(admission, tenant, "b", cost_cents=20)
    await settle(admission, tenant, "a", cost_cents=85)
    assert [e.id for e in await listed(admission, tenant)] == [e.id for e in events]


async def test_a_settle_below_the_thresholds_raises_nothing(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(
        integrations, tenant, budget_limit_cents=100, token_limit_month=1000
    )
    await admit(admission, tenant, integration, "c", estimated_cost_cents=50)
    await settle(admission, tenant, "c", cost_cents=79, input_tokens=500, output_tokens=299)
    assert await listed(admission, tenant) == []
    await admit(admission, tenant, integration, "d", estimated_input_tokens=1)
    await settle(admission, tenant, "d", output_tokens=1)  # 800 of 1000 tokens
    assert keys(await listed(admission, tenant)) == [(pb.LIMIT_KIND_TOKENS, "", 80)]


async def test_settles_of_a_model_with_limits_raise_that_models_events(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)  # no limits of its own
    await set_policy(admission, tenant, integration, model_limits=[
        pb.ModelLimits(model="big", budget_limit_cents=50),
        pb.ModelLimits(model="fast", rate_limit_rpm=100),  # no period limit: no events
    ])
    await admit(admission, tenant, integration, "m1", model="big", estimated_cost_cents=1)
    await settle(admission, tenant, "m1", cost_cents=40)  # 40 of big's 50
    [event] = await listed(admission, tenant)
    assert (event.kind, event.model, event.threshold_percent, event.used, event.limit) == (
        pb.LIMIT_KIND_BUDGET, "big", 80, 40, 50
    )
    await admit(admission, tenant, integration, "m2", model="fast")
    await settle(admission, tenant, "m2", cost_cents=1000)  # fast's usage is not big's
    await admit(admission, tenant, integration, "m3", model="fast")
    await settle(admission, tenant, "m3", model="big", cost_cents=10)  # settled as big: 50
    assert keys(await listed(admission, tenant)) == [
        (pb.LIMIT_KIND_BUDGET, "big", 80), (pb.LIMIT_KIND_BUDGET, "big", 100)
    ]


async def test_record_usage_raises_the_thresholds_it_reaches(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(
        integrations, tenant, budget_limit_cents=100, token_limit_month=10
    )
    await record_usage(integrations, tenant, integration, cost_cents=79, tokens=7)
    assert await listed(admission, tenant) == []
    first = await record_usage(
        integrations, tenant, integration, cost_cents=1, tokens=1, request_id="r1"
    )
    assert keys(await listed(admission, tenant)) == [
        (pb.LIMIT_KIND_BUDGET, "", 80), (pb.LIMIT_KIND_TOKENS, "", 80)
    ]
    repeat = await record_usage(
        integrations, tenant, integration, cost_cents=1, tokens=1, request_id="r1"
    )
    assert (repeat.recorded, repeat.usage_event_id) == (False, first.usage_event_id)
    assert len(await listed(admission, tenant)) == 2
    await record_usage(integrations, tenant, integration, cost_cents=20, tokens=2)  # 100 and 10
    assert keys(await listed(admission, tenant)) == [
        (pb.LIMIT_KIND_BUDGET, "", 80), (pb.LIMIT_KIND_BUDGET, "", 100),
        (pb.LIMIT_KIND_TOKENS, "", 80), (pb.LIMIT_KIND_TOKENS, "", 100),
    ]
    status = await integrations.GetLimitsStatus(integrations_pb2.GetLimitsStatusRequest(
        tenant_id=tenant, integration_id=integration))
    assert status.budget_used_cents == 100


async def test_a_batch_raises_the_events_of_each_integration_and_model(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    budget = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    tokens = await enabled_integration(integrations, tenant, token_limit_month=10)
    models = await enabled_integration(integrations, tenant)
    await set_policy(admission, tenant, models, model_limits=[
        pb.ModelLimits(model="m1", budget_limit_cents=10),
        pb.ModelLimits(model="m2", token_limit=10),
    ])
    plain = await enabled_integration(integrations, tenant)  # no limits: nothing to raise
    events = [
        usage(budget, "b1", cost_cents=50),
        usage(tokens, "t1", input_tokens=5, output_tokens=5),
        usage(budget, "b2", cost_cents=35),
        usage(models, "x1", model="m1", cost_cents=8),
        usage(models, "x2", model="m2", input_tokens=10),
        usage(models, "x3", model="m3", cost_cents=1000),
        usage(plain, "p1", cost_cents=1000),
    ]
    response = await admission.RecordUsageBatch(
        pb.RecordUsageBatchRequest(tenant_id=tenant, events=events)
    )
    assert response.recorded_count == len(events)
    assert keys(await listed(admission, tenant, budget)) == [(pb.LIMIT_KIND_BUDGET, "", 80)]
    assert keys(await listed(admission, tenant, tokens)) == [
        (pb.LIMIT_KIND_TOKENS, "", 80), (pb.LIMIT_KIND_TOKENS, "", 100)
    ]
    assert keys(await listed(admission, tenant, models)) == [
        (pb.LIMIT_KIND_BUDGET, "m1", 80),
        (pb.LIMIT_KIND_TOKENS, "m2", 80), (pb.LIMIT_KIND_TOKENS, "m2", 100),
    ]
    assert await listed(admission, tenant, plain) == []
    before = [e.id for e in await listed(admission, tenant)]
    again = await admission.RecordUsageBatch(  # duplicates: nothing new
        pb.RecordUsageBatchRequest(tenant_id=tenant, events=events)
    )
    assert {r.status for r in again.results} == {pb.USAGE_EVENT_STATUS_DUPLICATE}
    assert [e.id for e in await listed(admission, tenant)] == before
    await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant, events=[usage(budget, "b3", cost_cents=15)]
    ))
    assert keys(await listed(admission, tenant, budget)) == [
        (pb.LIMIT_KIND_BUDGET, "", 80), (pb.LIMIT_KIND_BUDGET, "", 100)
    ]


async def test_another_tenant_sees_none_and_cannot_raise_any(
    admission: Admission, integrations: Integrations, tenant: str, other_tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    refused = await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=other_tenant, events=[usage(integration, "o1", cost_cents=100)]
    ))
    assert [r.error_reason for r in refused.results] == ["NOT_FOUND"]
    assert await listed(admission, tenant) == []
    await admit(admission, tenant, integration, "s", estimated_cost_cents=1)
    await settle(admission, tenant, "s", cost_cents=90)
    await record_usage(integrations, tenant, integration, cost_cents=10)
    assert len(await listed(admission, tenant)) == 2
    assert await listed(admission, other_tenant) == []
    assert await listed(admission, other_tenant, integration) == []


@pytest.fixture
async def slow_poll(database_url: str, backend: str) -> AsyncIterator[RunningServer]:
    """A server whose watchers poll only every 60 s: a watcher sees an event at once only when
    its commit wakes it."""
    async with started(serve_config(database_url, limit_event_poll_seconds=60), backend) as s:
        yield s


async def test_watchers_are_woken_by_events_of_settles_and_recorded_usage(
    slow_poll: RunningServer, tenant: str
) -> None:
    admission = slow_poll.stub(Admission)
    integrations = slow_poll.stub(Integrations)
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    watch = admission.WatchLimitEvents(pb.WatchLimitEventsRequest(tenant_id=tenant))
    stream = watch.__aiter__()
    await asyncio.sleep(0.2)  # the watcher has read that there is nothing yet
    await admit(admission, tenant, integration, "w", estimated_cost_cents=1)
    await settle(admission, tenant, "w", cost_cents=80)
    async with asyncio.timeout(10):
        first = await anext(stream)
    assert (first.threshold_percent, first.used) == (80, 80)
    await record_usage(integrations, tenant, integration, cost_cents=20)
    async with asyncio.timeout(10):
        second = await anext(stream)
    assert (second.threshold_percent, second.used) == (100, 100)
    other = await enabled_integration(integrations, tenant, budget_limit_cents=10)
    await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant, events=[usage(other, f"w-{uuid.uuid4().hex}", cost_cents=10)]
    ))
    async with asyncio.timeout(10):
        batched = [await anext(stream), await anext(stream)]
    assert {(e.integration_id, e.threshold_percent) for e in batched} == {(other, 80), (other, 100)}
    watch.cancel()
