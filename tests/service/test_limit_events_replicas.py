"""Limit events across replicas: three server processes on one PostgreSQL whose watchers poll
only once an hour, so a WatchLimitEvents stream on one replica hears of another replica's events
through LISTEN/NOTIFY alone; a stream resumed on a third replica from the last cursor gets exactly
the events after it; and thresholds crossed by concurrent admissions on several replicas are one
event each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.replicas import Replicas, fresh_postgres, replicas
from tests.service.admission_helpers import admit, enabled_integration, set_policy
from tests.support import new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")

Admission = admission_pb2_grpc.AdmissionServiceStub
Stream = grpc.aio.UnaryStreamCall
CALLS = 45
# Far beyond the read timeout below: an event that arrives came through a notification.
POLL_SECONDS = "3600"
READ_TIMEOUT = 60.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(postgres_admin_url: str) -> AsyncIterator[Replicas]:
    async with fresh_postgres(postgres_admin_url) as url, replicas(
        url, 3, "--limit-event-poll-seconds", POLL_SECONDS
    ) as started:
        yield started


async def read_events(stream: Stream, count: int) -> list[pb.LimitEvent]:
    """The stream's next `count` events; fails when they do not all come within READ_TIMEOUT
    (with the poll an hour away, a missing notification)."""
    received: list[pb.LimitEvent] = []
    try:
        async with asyncio.timeout(READ_TIMEOUT):
            while len(received) < count:
                event = await stream.read()
                assert event is not grpc.aio.EOF, f"the stream ended after {received}"
                received.append(event)
    except TimeoutError:
        pytest.fail(f"{len(received)} of {count} events within {READ_TIMEOUT}s: {received}")
    return received


async def nothing_more(stream: Stream, seconds: float = 1.0) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(seconds):
            extra = await stream.read()
            pytest.fail(f"an event beyond those expected: {extra}")


def keys(events: list[pb.LimitEvent]) -> list[tuple[str, str, int, int]]:
    return sorted((e.integration_id, e.model, e.kind, e.threshold_percent) for e in events)


def cursors_increase(events: list[pb.LimitEvent]) -> bool:
    cursors = [int(e.cursor) for e in events]
    return cursors == sorted(set(cursors))


async def listed(admission: Admission, tenant: str) -> list[pb.LimitEvent]:
    response = await admission.ListLimitEvents(
        pb.ListLimitEventsRequest(tenant_id=tenant, page_size=100)
    )
    assert response.total_size == len(response.limit_events)
    return sorted(response.limit_events, key=lambda e: int(e.cursor))


async def spread(
    stubs: list[Admission], tenant: str, integration: str, prefix: str, **estimate: int | str
) -> list[pb.AdmitCallResponse]:
    """CALLS concurrent AdmitCalls, round-robin over `stubs`."""
    return list(await asyncio.gather(*(
        admit(stubs[n % len(stubs)], tenant, integration, f"{prefix}-{n}", **estimate)
        for n in range(CALLS)
    )))


def admitted(responses: list[pb.AdmitCallResponse]) -> int:
    return sum(r.verdict != pb.ADMISSION_VERDICT_BLOCK for r in responses)


async def test_watchers_hear_other_replicas_events_and_resume_elsewhere_from_a_cursor(
    cluster: Replicas,
) -> None:
    tenant = new_tenant()
    integrations = cluster.stubs(integrations_pb2_grpc.IntegrationsServiceStub)
    a, b, c = cluster.stubs(Admission)
    seed, main, models, late = [
        await enabled_integration(integrations[n % 3], tenant, **limits)
        for n, limits in enumerate([
            {"budget_limit_cents": 100},
            {"budget_limit_cents": 100},
            {"budget_limit_cents": 100_000},
            {"token_limit_month": 100},
        ])
    ]
    await set_policy(b, tenant, models, model_limits=[
        pb.ModelLimits(model="m1", budget_limit_cents=50),
    ])
    BUDGET, TOKENS = pb.LIMIT_KIND_BUDGET, pb.LIMIT_KIND_TOKENS

    # A stream on A; reading the event stored before it started shows it is subscribed.
    await admit(b, tenant, seed, "seed-80", estimated_cost_cents=80)
    on_a = a.WatchLimitEvents(pb.WatchLimitEventsRequest(tenant_id=tenant))
    replayed = await read_events(on_a, 1)
    assert keys(replayed) == [(seed, "", BUDGET, 80)]

    # Concurrent admissions on B and C (none on A) cross 80% and 100% of main's budget: A's
    # stream hears of both through NOTIFY (its poll is an hour away), once each.
    assert admitted(await spread([b, c], tenant, main, "main", estimated_cost_cents=5)) == 20
    live = await read_events(on_a, 2)
    assert keys(live) == [(main, "", BUDGET, 80), (main, "", BUDGET, 100)]
    seen_on_a = replayed + live
    assert cursors_increase(seen_on_a)
    on_a.cancel()
    last_cursor = seen_on_a[-1].cursor

    # While nobody watches: seed reaches 100% on B, and model m1 of `models` crosses 80% and
    # 100% of its own budget by concurrent admissions on all three replicas.
    await admit(b, tenant, seed, "seed-100", estimated_cost_cents=20)
    assert admitted(await spread([a, b, c], tenant, models, "m1", model="m1",
                                 estimated_cost_cents=5)) == 10
    missed = [(seed, "", BUDGET, 100), (models, "m1", BUDGET, 80), (models, "m1", BUDGET, 100)]

    # Resumed on C after the last cursor: exactly the events since, in cursor order.
    on_c = c.WatchLimitEvents(pb.WatchLimitEventsRequest(
        tenant_id=tenant, resume_cursor=last_cursor))
    resumed = await read_events(on_c, 3)
    assert keys(resumed) == sorted(missed)
    stored = await listed(c, tenant)
    assert [e.id for e in resumed] == [
        e.id for e in stored if int(e.cursor) > int(last_cursor)
    ]
    # Then live again: late's token limit, crossed on A in one admission, reaches C's stream.
    await admit(a, tenant, late, "late", estimated_input_tokens=100)
    after = await read_events(on_c, 2)
    assert keys(after) == [(late, "", TOKENS, 80), (late, "", TOKENS, 100)]
    await nothing_more(on_c)
    on_c.cancel()
    seen_on_c = resumed + after
    assert cursors_increase(seen_on_c)

    # One event per threshold and period whatever the number of replicas that admitted: what
    # is stored is what the two streams delivered, each event once.
    stored = await listed(a, tenant)
    assert len(stored) == 8
    assert len({(e.integration_id, e.model, e.kind, e.threshold_percent, e.period_start.seconds)
                for e in stored}) == 8
    assert [e.id for e in stored] == [e.id for e in seen_on_a + seen_on_c]
