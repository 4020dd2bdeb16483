"""Limit events end to end on both backends: one event per threshold and period whatever the
number of admissions, ListLimitEvents paging, WatchLimitEvents replay then live with cursors,
tenant isolation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.service.admission_helpers import admit, enabled_integration, set_policy
from tests.support import RunningServer, rich_error

Admission = admission_pb2_grpc.AdmissionServiceStub


@pytest.fixture
def admission(server: RunningServer) -> Admission:
    return server.stub(Admission)


@pytest.fixture
async def budget(server: RunningServer, tenant: str) -> str:
    """An integration of `tenant` with a budget of 100 cents."""
    return await enabled_integration(
        server.stub(integrations_pb2_grpc.IntegrationsServiceStub), tenant, budget_limit_cents=100
    )


async def listed(admission: Admission, tenant: str, **fields: object) -> list[pb.LimitEvent]:
    response = await admission.ListLimitEvents(
        pb.ListLimitEventsRequest(tenant_id=tenant, **fields)  # type: ignore[arg-type]
    )
    return list(response.limit_events)


async def test_each_threshold_is_one_event_per_period(
    admission: Admission, tenant: str, budget: str
) -> None:
    await admit(admission, tenant, budget, estimated_cost_cents=50)
    assert await listed(admission, tenant) == []
    await admit(admission, tenant, budget, estimated_cost_cents=35)  # 85 of 100: past 80%
    await admit(admission, tenant, budget, estimated_cost_cents=5)  # still past 80% only
    [warn] = await listed(admission, tenant)
    assert (warn.kind, warn.threshold_percent, warn.integration_id) == (
        pb.LIMIT_KIND_BUDGET, 80, budget
    )
    assert (warn.used, warn.reserved, warn.limit, warn.model) == (0, 85, 100, "")
    assert warn.period_start.ToDatetime() < warn.period_end.ToDatetime()
    await admit(admission, tenant, budget, estimated_cost_cents=10)  # 100 of 100
    blocked = await admit(admission, tenant, budget, estimated_cost_cents=1)
    assert blocked.verdict == pb.ADMISSION_VERDICT_BLOCK
    events = await listed(admission, tenant)
    assert [e.threshold_percent for e in events] == [100, 80]  # newest first
    assert int(events[0].cursor) > int(events[1].cursor)


async def test_concurrent_admissions_make_one_event_per_threshold(
    admission: Admission, tenant: str, budget: str
) -> None:
    await asyncio.gather(*(
        admit(admission, tenant, budget, estimated_cost_cents=9) for _ in range(15)
    ))
    assert sorted(e.threshold_percent for e in await listed(admission, tenant)) == [80]


async def test_the_thresholds_follow_warn_percent(
    admission: Admission, tenant: str, budget: str
) -> None:
    await set_policy(admission, tenant, budget, warn_percent=50)
    await admit(admission, tenant, budget, estimated_cost_cents=100)
    assert sorted(e.threshold_percent for e in await listed(admission, tenant)) == [50, 100]


async def test_list_pages_and_filters_by_integration(
    server: RunningServer, admission: Admission, tenant: str, budget: str
) -> None:
    tokens = await enabled_integration(
        server.stub(integrations_pb2_grpc.IntegrationsServiceStub), tenant, token_limit_month=10
    )
    await admit(admission, tenant, budget, estimated_cost_cents=100)
    await admit(admission, tenant, tokens, estimated_input_tokens=10)
    first = await admission.ListLimitEvents(pb.ListLimitEventsRequest(tenant_id=tenant, page_size=3))
    assert (len(first.limit_events), first.total_size) == (3, 4)
    second = await admission.ListLimitEvents(pb.ListLimitEventsRequest(
        tenant_id=tenant, page_size=3, page_token=first.next_page_token))
    assert (len(second.limit_events), second.next_page_token) == (1, "")
    ids = {e.id for e in [*first.limit_events, *second.limit_events]}
    assert len(ids) == 4
    only = await listed(admission, tenant, integration_id=tokens)
    assert {(e.kind, e.integration_id) for e in only} == {(pb.LIMIT_KIND_TOKENS, tokens)}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await admission.ListLimitEvents(pb.ListLimitEventsRequest(
            tenant_id=tenant, page_size=3, page_token=first.next_page_token, integration_id=tokens))
    error = rich_error(caught.value)
    assert (error.code, list(error.field_violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT, ["page_token"]
    )


async def test_another_tenant_sees_no_event(
    admission: Admission, tenant: str, other_tenant: str, budget: str
) -> None:
    await admit(admission, tenant, budget, estimated_cost_cents=100)
    assert len(await listed(admission, tenant)) == 2
    assert await listed(admission, other_tenant) == []
    assert await listed(admission, other_tenant, integration_id=budget) == []
    watch = admission.WatchLimitEvents(pb.WatchLimitEventsRequest(tenant_id=other_tenant))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await watch.read()
    watch.cancel()


async def next_events(stream: AsyncIterator[pb.LimitEvent], count: int) -> list[pb.LimitEvent]:
    received = []
    async with asyncio.timeout(30):
        async for event in stream:
            received.append(event)
            if len(received) == count:
                break
    return received


async def test_watch_replays_then_streams_and_resumes_after_a_cursor(
    admission: Admission, tenant: str, budget: str
) -> None:
    await admit(admission, tenant, budget, estimated_cost_cents=85)
    watch = admission.WatchLimitEvents(pb.WatchLimitEventsRequest(tenant_id=tenant))
    [replayed] = await next_events(watch.__aiter__(), 1)
    assert replayed.threshold_percent == 80
    await admit(admission, tenant, budget, estimated_cost_cents=15)
    [live] = await next_events(watch.__aiter__(), 1)
    assert live.threshold_percent == 100
    watch.cancel()
    # Reconnecting with the last cursor seen: nothing again, then only what is new.
    resumed = admission.WatchLimitEvents(pb.WatchLimitEventsRequest(
        tenant_id=tenant, resume_cursor=replayed.cursor))
    [again] = await next_events(resumed.__aiter__(), 1)
    assert again.id == live.id
    resumed.cancel()
    everything = admission.WatchLimitEvents(pb.WatchLimitEventsRequest(tenant_id=tenant))
    assert [e.id for e in await next_events(everything.__aiter__(), 2)] == [replayed.id, live.id]
    everything.cancel()


async def test_watch_filters_by_integration_and_refuses_a_bad_cursor(
    server: RunningServer, admission: Admission, tenant: str, budget: str
) -> None:
    other = await enabled_integration(
        server.stub(integrations_pb2_grpc.IntegrationsServiceStub), tenant, budget_limit_cents=10
    )
    await admit(admission, tenant, other, estimated_cost_cents=10)
    await admit(admission, tenant, budget, estimated_cost_cents=80)
    watch = admission.WatchLimitEvents(
        pb.WatchLimitEventsRequest(tenant_id=tenant, integration_id=budget))
    [event] = await next_events(watch.__aiter__(), 1)
    assert (event.integration_id, event.threshold_percent) == (budget, 80)
    watch.cancel()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in admission.WatchLimitEvents(
            pb.WatchLimitEventsRequest(tenant_id=tenant, resume_cursor="not-a-cursor")
        ):
            pass
    error = rich_error(caught.value)
    assert (error.code, list(error.field_violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT, ["resume_cursor"]
    )
