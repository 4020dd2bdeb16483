"""Admission is exact across replicas: three server processes on one PostgreSQL, N concurrent
AdmitCalls spread over them against a limit of K < N admit exactly K (an integration's own limits
and a model's own limits, which leave other models alone), and after settling the counters equal
the sum of the settled values."""

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
    cluster: Replicas, tenant: str, integration: str, prefix: str = "call", **estimate: int | str
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


@pytest.mark.parametrize(
    ("model_limit", "loose", "policy", "estimate", "reason", "kind"),
    [
        pytest.param({"budget_limit_cents": 100}, {"budget_limit_cents": 100_000}, {},
                     {"estimated_cost_cents": 10}, pb.ADMISSION_REASON_BUDGET_EXCEEDED,
                     pb.LIMIT_KIND_BUDGET, id="budget"),
        pytest.param({"token_limit": 1000}, {"token_limit_month": 10**7}, {},
                     {"estimated_input_tokens": 125}, pb.ADMISSION_REASON_TOKEN_LIMIT_EXCEEDED,
                     pb.LIMIT_KIND_TOKENS, id="tokens"),
        pytest.param({"rate_limit_rpm": 7}, {"rate_limit_rpm": 1000}, {}, {},
                     pb.ADMISSION_REASON_RATE_LIMITED, pb.LIMIT_KIND_REQUESTS_PER_MINUTE,
                     id="requests-per-minute"),
        pytest.param({"tokens_per_minute": 1000}, {}, {"tokens_per_minute": 10**7},
                     {"estimated_input_tokens": 125}, pb.ADMISSION_REASON_TOKEN_RATE_LIMITED,
                     pb.LIMIT_KIND_TOKENS_PER_MINUTE, id="tokens-per-minute"),
        pytest.param({"max_parallel_calls": 5}, {}, {"max_parallel_calls": 1000}, {},
                     pb.ADMISSION_REASON_PARALLEL_LIMIT, pb.LIMIT_KIND_PARALLEL_CALLS,
                     id="parallel-calls"),
    ],
)
async def test_a_models_own_limit_admits_exactly_k_of_n_over_three_replicas(
    cluster: Replicas, model_limit: dict, loose: dict, policy: dict, estimate: dict,
    reason: int, kind: int,
) -> None:
    """Model m1 has a limit K, the integration's own limit of the same kind is loose: N
    concurrent AdmitCalls for m1 over the three replicas admit exactly K, while as many for m2,
    at the same time, are all admitted (m1's limit is not theirs)."""
    tenant = new_tenant()
    integrations = cluster.stubs(integrations_pb2_grpc.IntegrationsServiceStub)
    integration = await enabled_integration(integrations[0], tenant, **loose)
    admission = cluster.stubs(admission_pb2_grpc.AdmissionServiceStub)
    await set_policy(admission[1], tenant, integration, **policy,
                     model_limits=[pb.ModelLimits(model="m1", **model_limit)])
    expected = next(iter(model_limit.values()))
    per_call = next(iter(estimate.values()), 1)
    expected //= per_call
    m1, m2 = await asyncio.gather(
        admit_everywhere(cluster, tenant, integration, "m1", model="m1", **estimate),
        admit_everywhere(cluster, tenant, integration, "m2", model="m2", **estimate),
    )
    winners = admitted(m1)
    assert len(winners) == expected
    assert len({r.reservation.id for r in winners}) == expected
    assert {r.reasons[0].reason for r in m1 if r not in winners} == {reason}
    assert {r.deciding_limit for r in m1 if r not in winners} == {kind}
    assert {r.verdict for r in m2} == {pb.ADMISSION_VERDICT_ALLOW}
    # The counters of m1's own limit, seen by one more call for m1 on another replica.
    after = await admit(admission[2], tenant, integration, "m1-after", model="m1", **estimate)
    assert after.verdict == pb.ADMISSION_VERDICT_BLOCK
    status = next(s for s in after.limits if s.model == "m1" and s.kind == kind)
    assert (status.limit, status.used + status.reserved) == (
        next(iter(model_limit.values())), expected * per_call
    )
    # A period limit of m1 raises its 80% and 100% events once each (model m1), the loose
    # integration-wide limits none; sliding-window limits raise none.
    events = await admission[0].ListLimitEvents(pb.ListLimitEventsRequest(tenant_id=tenant))
    period_limit = kind in (pb.LIMIT_KIND_BUDGET, pb.LIMIT_KIND_TOKENS)
    assert sorted((e.model, e.threshold_percent) for e in events.limit_events) == (
        [("m1", 80), ("m1", 100)] if period_limit else []
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
