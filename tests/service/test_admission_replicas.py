"""Admission is exact across replicas: three server processes on one PostgreSQL, N concurrent
AdmitCalls spread over them against a limit of K < N admit exactly K, and after settling the
counters equal the sum of the settled values."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2_grpc
from tests.replicas import Replicas, fresh_postgres, replicas
from tests.service.admission_helpers import admit, enabled_integration, set_policy, settle
from tests.support import new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")

CALLS = 45  # N, spread round-robin over the replicas


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(postgres_admin_url: str) -> AsyncIterator[Replicas]:
    async with fresh_postgres(postgres_admin_url) as url, replicas(url, 3) as started:
        yield started


async def admit_everywhere(
    cluster: Replicas, tenant: str, integration: str, prefix: str = "call", **estimate: int
) -> list[pb.AdmitCallResponse]:
    stubs = cluster.stubs(admission_pb2_grpc.AdmissionServiceStub)
    return list(await asyncio.gather(*(
        admit(stubs[n % len(stubs)], tenant, integration, f"{prefix}-{n}", **estimate)
        for n in range(CALLS)
    )))


def admitted(responses: list[pb.AdmitCallResponse]) -> list[pb.AdmitCallResponse]:
    return [r for r in responses if r.verdict != pb.ADMISSION_VERDICT_BLOCK]


@pytest.mark.parametrize(
    ("limits", "policy", "estimate", "reason"),
    [
        pytest.param({"rate_limit_rpm": 7}, {}, {}, pb.ADMISSION_REASON_RATE_LIMITED,
                     id="requests-per-minute"),
        pytest.param({"budget_limit_cents": 100}, {}, {"estimated_cost_cents": 10},
                     pb.ADMISSION_REASON_BUDGET_EXCEEDED, id="budget"),
        pytest.param({"token_limit_month": 1000}, {}, {"estimated_input_tokens": 125},
                     pb.ADMISSION_REASON_TOKEN_LIMIT_EXCEEDED, id="tokens"),
        pytest.param({}, {"max_parallel_calls": 5}, {}, pb.ADMISSION_REASON_PARALLEL_LIMIT,
                     id="parallel-calls"),
    ],
)
async def test_exactly_k_of_n_concurrent_admissions_over_three_replicas(
    cluster: Replicas, limits: dict, policy: dict, estimate: dict, reason: int
) -> None:
    tenant = new_tenant()
    integrations = cluster.stubs(integrations_pb2_grpc.IntegrationsServiceStub)
    integration = await enabled_integration(integrations[0], tenant, **limits)
    admission = cluster.stubs(admission_pb2_grpc.AdmissionServiceStub)
    if policy:
        await set_policy(admission[1], tenant, integration, **policy)
    expected = next(iter({**limits, **policy}.values()))
    if "estimated_cost_cents" in estimate:
        expected //= estimate["estimated_cost_cents"]
    if "estimated_input_tokens" in estimate:
        expected //= estimate["estimated_input_tokens"]
    responses = await admit_everywhere(cluster, tenant, integration, **estimate)
    winners = admitted(responses)
    assert len(winners) == expected
    assert {r.reasons[0].reason for r in responses if r not in winners} == {reason}
    assert len({r.reservation.id for r in winners}) == expected
    # Limits over a period reach 80% and 100% in this run: one limit event each, whichever
    # replica's admission got there first (sliding-window limits raise none).
    events = await admission[2].ListLimitEvents(pb.ListLimitEventsRequest(tenant_id=tenant))
    period_limit = "budget_limit_cents" in limits or "token_limit_month" in limits
    assert sorted(e.threshold_percent for e in events.limit_events) == (
        [80, 100] if period_limit else []
    )


async def test_after_settling_the_counters_equal_the_settled_sums(cluster: Replicas) -> None:
    tenant = new_tenant()
    integrations = cluster.stubs(integrations_pb2_grpc.IntegrationsServiceStub)
    integration = await enabled_integration(integrations[0], tenant, budget_limit_cents=200)
    admission = cluster.stubs(admission_pb2_grpc.AdmissionServiceStub)
    winners = admitted(
        await admit_everywhere(cluster, tenant, integration, estimated_cost_cents=20)
    )
    assert len(winners) == 10
    # Every admitted call settles (some twice, on another replica) for 1..10 cents.
    await asyncio.gather(*(
        settle(admission[(n + k) % 3], tenant, r.reservation.call_id, cost_cents=n + 1,
               input_tokens=n)
        for n, r in enumerate(winners) for k in (0, 1)
    ))
    settled_cost = sum(range(1, 11))
    summary = await admission[2].GetUsageSummary(
        pb.GetUsageSummaryRequest(tenant_id=tenant, integration_id=integration)
    )
    assert (summary.total.requests, summary.total.cost_cents) == (10, settled_cost)
    assert summary.total.input_tokens == sum(range(10))
    after = await admit(admission[0], tenant, integration, "after", estimated_cost_cents=1)
    budget = next(s for s in after.limits if s.kind == pb.LIMIT_KIND_BUDGET)
    assert (budget.used, budget.reserved) == (settled_cost, 1)
    # What is left is admitted exactly once more across the replicas.
    left = 200 - settled_cost - 1
    more = admitted(await admit_everywhere(
        cluster, tenant, integration, "more", estimated_cost_cents=left // 3 + 1
    ))
    assert len(more) == 2
