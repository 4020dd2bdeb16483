"""AdmissionService end to end on both backends: every verdict and reason, reservations,
settle idempotency, expiry, batch ingestion, summaries, tenant isolation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest

from integrations.v1 import admission_pb2 as pb
from integrations.v1 import admission_pb2_grpc, integrations_pb2, integrations_pb2_grpc
from tests.fake_provider import FakeProvider, fake_provider
from tests.secrets_registry import register_secret
from tests.service.admission_helpers import admit, enabled_integration, set_policy, settle
from tests.support import RunningServer, rich_error

KEY_ENV = "DEV_ADMISSION_TEST_PROVIDER_KEY"
PROVIDER_KEY = register_secret("sk-admission-" + uuid.uuid4().hex)

Admission = admission_pb2_grpc.AdmissionServiceStub
Integrations = integrations_pb2_grpc.IntegrationsServiceStub


@pytest.fixture
def admission(server: RunningServer) -> Admission:
    return server.stub(Admission)


@pytest.fixture
def integrations(server: RunningServer) -> Integrations:
    return server.stub(Integrations)


def limit(response: pb.AdmitCallResponse, kind: int) -> pb.LimitSnapshot:
    return next(s for s in response.limits if s.kind == kind)


def reasons(response: pb.AdmitCallResponse) -> list[int]:
    return [r.reason for r in response.reasons]


async def refused(call: object) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    """The code, ErrorInfo reason and BadRequest fields of a call that must fail."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    error = rich_error(caught.value)
    return error.code, error.reason, error.field_violations


# --- verdicts and reasons -------------------------------------------------------------------


async def test_allow_reserves_the_estimate_and_says_how_to_call(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=1000)
    response = await admit(
        admission, tenant, integration, "call-1",
        estimated_input_tokens=100, estimated_max_output_tokens=50, estimated_cost_cents=10,
    )
    assert response.verdict == pb.ADMISSION_VERDICT_ALLOW
    assert list(response.reasons) == []
    assert response.reservation.call_id == "call-1"
    assert response.reservation.estimated_tokens == 150
    assert response.reservation.estimated_cost_cents == 10
    reservation = response.reservation
    ttl = reservation.expire_time.ToDatetime() - reservation.create_time.ToDatetime()
    assert ttl == timedelta(minutes=5)
    assert response.target.base_url == "https://llm.example.com/v1"
    assert response.target.model == "gpt-test"
    assert response.target.credential_ref == "env://OPENAI_API_KEY"
    assert response.target.credential == ""
    assert response.target.provider_type == integrations_pb2.PROVIDER_TYPE_OPENAI
    assert {s.kind for s in response.limits} == {
        pb.LIMIT_KIND_BUDGET, pb.LIMIT_KIND_TOKENS, pb.LIMIT_KIND_REQUESTS_PER_MINUTE,
        pb.LIMIT_KIND_TOKENS_PER_MINUTE, pb.LIMIT_KIND_PARALLEL_CALLS,
    }
    budget = limit(response, pb.LIMIT_KIND_BUDGET)
    assert (budget.limit, budget.used, budget.reserved, budget.remaining) == (1000, 0, 10, 990)
    assert budget.period_end.ToDatetime().day == 1


async def test_budget_blocks_counts_settled_cost_and_warns_past_the_threshold(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    first = await admit(admission, tenant, integration, "b1", estimated_cost_cents=60)
    assert first.verdict == pb.ADMISSION_VERDICT_ALLOW
    blocked = await admit(admission, tenant, integration, "b2", estimated_cost_cents=60)
    assert blocked.verdict == pb.ADMISSION_VERDICT_BLOCK
    assert reasons(blocked) == [pb.ADMISSION_REASON_BUDGET_EXCEEDED]
    assert blocked.deciding_limit == pb.LIMIT_KIND_BUDGET
    assert not blocked.HasField("reservation") and not blocked.HasField("target")
    budget = limit(blocked, pb.LIMIT_KIND_BUDGET)
    assert (budget.used, budget.reserved, budget.remaining) == (0, 60, 40)
    # Settling for less than the estimate frees the difference.
    await settle(admission, tenant, "b1", cost_cents=30, input_tokens=10, output_tokens=5)
    warned = await admit(admission, tenant, integration, "b3", estimated_cost_cents=60)
    assert warned.verdict == pb.ADMISSION_VERDICT_WARN
    assert reasons(warned) == [pb.ADMISSION_REASON_THRESHOLD_CROSSED]
    assert warned.reasons[0].limit == pb.LIMIT_KIND_BUDGET
    budget = limit(warned, pb.LIMIT_KIND_BUDGET)
    assert (budget.used, budget.reserved, budget.remaining) == (30, 60, 10)
    assert warned.HasField("reservation")


async def test_token_limit_blocks_on_input_plus_max_output(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, token_limit_month=1000)
    assert (await admit(admission, tenant, integration, estimated_input_tokens=400,
                        estimated_max_output_tokens=300)).verdict == pb.ADMISSION_VERDICT_ALLOW
    blocked = await admit(admission, tenant, integration, estimated_input_tokens=200,
                          estimated_max_output_tokens=200)
    assert reasons(blocked) == [pb.ADMISSION_REASON_TOKEN_LIMIT_EXCEEDED]
    assert blocked.deciding_limit == pb.LIMIT_KIND_TOKENS


async def test_requests_per_minute_block_with_retry_after(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, rate_limit_rpm=2)
    for _ in range(2):
        assert (await admit(admission, tenant, integration)).verdict != pb.ADMISSION_VERDICT_BLOCK
    blocked = await admit(admission, tenant, integration)
    assert reasons(blocked) == [pb.ADMISSION_REASON_RATE_LIMITED]
    retry_after = blocked.reasons[0].retry_after.ToTimedelta()
    assert timedelta(0) < retry_after <= timedelta(seconds=60)
    rpm = limit(blocked, pb.LIMIT_KIND_REQUESTS_PER_MINUTE)
    assert (rpm.limit, rpm.used) == (2, 2)


async def test_tokens_per_minute_and_parallel_calls_from_the_policy(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    policy = await set_policy(
        admission, tenant, integration, tokens_per_minute=1000, max_parallel_calls=2
    )
    assert (policy.tokens_per_minute, policy.max_parallel_calls, policy.warn_percent) == (1000, 2, 80)
    assert policy.reservation_ttl.ToTimedelta() == timedelta(minutes=5)
    await admit(admission, tenant, integration, "p1", estimated_input_tokens=700)
    blocked = await admit(admission, tenant, integration, estimated_input_tokens=400)
    assert reasons(blocked) == [pb.ADMISSION_REASON_TOKEN_RATE_LIMITED]
    await admit(admission, tenant, integration, "p2", estimated_input_tokens=10)
    blocked = await admit(admission, tenant, integration)
    assert reasons(blocked) == [pb.ADMISSION_REASON_PARALLEL_LIMIT]
    assert blocked.deciding_limit == pb.LIMIT_KIND_PARALLEL_CALLS
    await settle(admission, tenant, "p2", input_tokens=10)
    assert (await admit(admission, tenant, integration)).verdict != pb.ADMISSION_VERDICT_BLOCK


async def test_an_integration_not_enabled_is_blocked(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    await integrations.DisableIntegration(
        integrations_pb2.DisableIntegrationRequest(tenant_id=tenant, integration_id=integration)
    )
    blocked = await admit(admission, tenant, integration)
    assert blocked.verdict == pb.ADMISSION_VERDICT_BLOCK
    assert reasons(blocked) == [pb.ADMISSION_REASON_INTEGRATION_DISABLED]
    assert blocked.deciding_limit == pb.LIMIT_KIND_UNSPECIFIED


@pytest.fixture
async def provider(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeProvider]:
    monkeypatch.setenv(KEY_ENV, PROVIDER_KEY)
    async with fake_provider() as running:
        yield running


@pytest.mark.parametrize(
    ("status", "verdict", "reason"),
    [
        pytest.param(401, pb.ADMISSION_VERDICT_BLOCK, pb.ADMISSION_REASON_INTEGRATION_UNHEALTHY,
                     id="unhealthy-blocks"),
        pytest.param(429, pb.ADMISSION_VERDICT_WARN, pb.ADMISSION_REASON_INTEGRATION_DEGRADED,
                     id="degraded-warns"),
    ],
)
async def test_provider_health_from_the_last_probe(
    admission: Admission,
    integrations: Integrations,
    tenant: str,
    provider: FakeProvider,
    status: int,
    verdict: int,
    reason: int,
) -> None:
    integration = await enabled_integration(
        integrations, tenant, credential_ref=f"env://{KEY_ENV}",
        config={"base_url": provider.route("p", status=status)},
    )
    await integrations.TestCredentials(
        integrations_pb2.TestCredentialsRequest(tenant_id=tenant, integration_id=integration)
    )
    response = await admit(admission, tenant, integration)
    assert response.verdict == verdict
    assert reasons(response) == [reason]


async def test_include_credential_reveals_the_key(
    admission: Admission, integrations: Integrations, tenant: str, provider: FakeProvider
) -> None:
    integration = await enabled_integration(integrations, tenant, credential_ref=f"env://{KEY_ENV}")
    response = await admit(admission, tenant, integration, include_credential=True)
    assert response.target.credential == PROVIDER_KEY
    assert response.target.credential_ref == f"env://{KEY_ENV}"


async def test_a_key_that_cannot_be_revealed_gives_the_reservation_back(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(
        integrations, tenant, credential_ref="env://ADMISSION_TEST_UNSET_KEY"
    )
    await set_policy(admission, tenant, integration, max_parallel_calls=1)
    code, _, _ = await refused(admit(admission, tenant, integration, include_credential=True))
    assert code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)
    # The one parallel slot is free again.
    assert (await admit(admission, tenant, integration)).verdict != pb.ADMISSION_VERDICT_BLOCK


# --- replays, settling, expiry --------------------------------------------------------------


async def test_admit_is_idempotent_on_call_id_until_settled(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    first = await admit(admission, tenant, integration, "same", estimated_cost_cents=10)
    again = await admit(admission, tenant, integration, "same", estimated_cost_cents=10)
    assert again.replayed and not first.replayed
    assert again.reservation.id == first.reservation.id
    assert limit(again, pb.LIMIT_KIND_BUDGET).reserved == 10  # reserved once, not twice
    await settle(admission, tenant, "same", cost_cents=5)
    assert await refused(admit(admission, tenant, integration, "same")) == (
        grpc.StatusCode.FAILED_PRECONDITION, "CALL_ALREADY_SETTLED", {}
    )


async def test_settle_is_idempotent_and_refuses_other_numbers(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    admitted = await admit(admission, tenant, integration, "s1", model="gpt-x")
    numbers = {"input_tokens": 10, "output_tokens": 20, "cost_cents": 3,
               "outcome": pb.CALL_OUTCOME_ERROR, "error_code": "rate_limit"}
    first = await settle(admission, tenant, "s1", **numbers)
    assert first.recorded and first.reservation_id == admitted.reservation.id
    # By reservation id, the same numbers: the same answer, nothing new.
    again = await admission.SettleCall(pb.SettleCallRequest(
        tenant_id=tenant, reservation_id=admitted.reservation.id, **numbers
    ))
    assert (again.recorded, again.usage_event_id) == (False, first.usage_event_id)
    assert await refused(settle(admission, tenant, "s1", **{**numbers, "cost_cents": 4})) == (
        grpc.StatusCode.FAILED_PRECONDITION, "SETTLEMENT_MISMATCH", {}
    )
    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(
        tenant_id=tenant, integration_id=integration, group_by=[pb.USAGE_GROUP_BY_MODEL]
    ))
    assert [(r.model, r.requests, r.tokens, r.cost_cents, r.errors) for r in summary.rows] == [
        ("gpt-x", 1, 30, 3, 1)
    ]


async def test_unsettled_reservation_expires_and_its_estimate_counts_as_used(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await set_policy(
        admission, tenant, integration, ttl_seconds=1, max_parallel_calls=1, warn_percent=100
    )
    first = await admit(admission, tenant, integration, "e1", estimated_cost_cents=40,
                        estimated_input_tokens=7)
    assert first.verdict == pb.ADMISSION_VERDICT_WARN  # the one parallel slot is now full
    assert reasons(await admit(admission, tenant, integration)) == [pb.ADMISSION_REASON_PARALLEL_LIMIT]
    await asyncio.sleep(1.2)
    after = await admit(admission, tenant, integration, "e2", estimated_cost_cents=10)
    assert after.verdict == pb.ADMISSION_VERDICT_WARN  # the parallel slot was released
    budget = limit(after, pb.LIMIT_KIND_BUDGET)
    assert (budget.used, budget.reserved) == (40, 10)
    assert await refused(settle(admission, tenant, "e1", cost_cents=1)) == (
        grpc.StatusCode.FAILED_PRECONDITION, "RESERVATION_EXPIRED", {}
    )
    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(tenant_id=tenant))
    assert (summary.total.requests, summary.total.cost_cents, summary.total.tokens) == (1, 40, 7)


async def test_settle_needs_a_known_call(admission: Admission, tenant: str) -> None:
    assert (await refused(settle(admission, tenant, "never-admitted")))[0] == grpc.StatusCode.NOT_FOUND
    code, _, fields = await refused(admission.SettleCall(pb.SettleCallRequest(tenant_id=tenant)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "call_id" in fields


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        pytest.param({"call_id": ""}, "call_id", id="no-call-id"),
        pytest.param({"call_id": "x" * 129}, "call_id", id="long-call-id"),
        pytest.param({"estimated_input_tokens": -1}, "estimated_input_tokens", id="negative"),
        pytest.param({"estimated_cost_cents": -5}, "estimated_cost_cents", id="negative-cost"),
        pytest.param({"integration_id": "nope"}, "integration_id", id="bad-integration-id"),
    ],
)
async def test_bad_admit_requests_name_the_field(
    admission: Admission, integrations: Integrations, tenant: str, fields: dict, bad: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    request = pb.AdmitCallRequest(tenant_id=tenant, integration_id=integration, call_id="ok")
    for name, value in fields.items():
        setattr(request, name, value)
    code, _, violations = await refused(admission.AdmitCall(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and bad in violations


async def test_bad_policies_name_the_field(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    code, _, fields = await refused(set_policy(
        admission, tenant, integration, ttl_seconds=100000, warn_percent=101, tokens_per_minute=-1
    ))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(fields) == {"policy.reservation_ttl", "policy.warn_percent", "policy.tokens_per_minute"}
    fetched = await admission.GetAdmissionPolicy(
        pb.GetAdmissionPolicyRequest(tenant_id=tenant, integration_id=integration)
    )
    assert (fetched.max_parallel_calls, fetched.HasField("update_time")) == (0, False)


async def test_fail_open_is_stored_and_returned_and_defaults_to_false(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    get = pb.GetAdmissionPolicyRequest(tenant_id=tenant, integration_id=integration)
    assert (await admission.GetAdmissionPolicy(get)).fail_open is False
    updated = await set_policy(admission, tenant, integration, fail_open=True, warn_percent=70)
    assert updated.fail_open is True
    fetched = await admission.GetAdmissionPolicy(get)
    assert (fetched.fail_open, fetched.warn_percent) == (True, 70)
    # Every field is written: a policy without fail_open turns it off.
    assert (await set_policy(admission, tenant, integration, warn_percent=70)).fail_open is False
    assert (await admission.GetAdmissionPolicy(get)).fail_open is False
    # With the database up, fail_open changes nothing: the call is checked and reserved.
    await set_policy(admission, tenant, integration, fail_open=True)
    admitted = await admit(admission, tenant, integration, "checked-1")
    assert (admitted.unchecked, admitted.HasField("reservation")) == (False, True)


# --- batches and summaries ------------------------------------------------------------------


def event(integration: str, call_id: str, **fields: object) -> pb.UsageEventInput:
    return pb.UsageEventInput(integration_id=integration, call_id=call_id, **fields)  # type: ignore[arg-type]


async def test_batch_events_succeed_or_fail_alone_and_repeat_idempotently(
    admission: Admission, integrations: Integrations, tenant: str, other_tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant)
    foreign = await enabled_integration(integrations, other_tenant)
    events = [
        event(integration, "u1", model="m1", input_tokens=10, output_tokens=5, cost_cents=2),
        event(integration, "u2", input_tokens=-1),
        event(foreign, "u3", input_tokens=1),
        event(integration, "", input_tokens=1),
        event(integration, "u4", model="m2", cost_cents=7, outcome=pb.CALL_OUTCOME_TIMEOUT),
    ]
    response = await admission.RecordUsageBatch(
        pb.RecordUsageBatchRequest(tenant_id=tenant, events=events)
    )
    assert [r.status for r in response.results] == [
        pb.USAGE_EVENT_STATUS_RECORDED, pb.USAGE_EVENT_STATUS_REJECTED,
        pb.USAGE_EVENT_STATUS_REJECTED, pb.USAGE_EVENT_STATUS_REJECTED,
        pb.USAGE_EVENT_STATUS_RECORDED,
    ]
    assert [r.error_reason for r in response.results] == [
        "", "INVALID_ARGUMENT", "NOT_FOUND", "INVALID_ARGUMENT", ""
    ]
    assert "events[1].input_tokens" in response.results[1].error_message
    assert (response.recorded_count, response.rejected_count) == (2, 3)
    again = await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant,
        events=[events[0], event(integration, "u4", model="m2", cost_cents=8)],
    ))
    assert [(r.status, r.usage_event_id, r.error_reason) for r in again.results] == [
        (pb.USAGE_EVENT_STATUS_DUPLICATE, response.results[0].usage_event_id, ""),
        (pb.USAGE_EVENT_STATUS_REJECTED, "", "CALL_ID_CONFLICT"),
    ]
    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(
        tenant_id=tenant, group_by=[pb.USAGE_GROUP_BY_MODEL, pb.USAGE_GROUP_BY_INTEGRATION]
    ))
    assert [(r.model, r.integration_id, r.requests, r.input_tokens, r.output_tokens, r.cost_cents,
             r.errors) for r in summary.rows] == [
        ("m1", integration, 1, 10, 5, 2, 0), ("m2", integration, 1, 0, 0, 7, 1)
    ]


async def test_batch_size_is_bounded(admission: Admission, tenant: str) -> None:
    integration = str(uuid.uuid4())
    for events in ([], [event(integration, f"c{n}") for n in range(1001)]):
        code, _, fields = await refused(admission.RecordUsageBatch(
            pb.RecordUsageBatchRequest(tenant_id=tenant, events=events)
        ))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "events" in fields


async def test_summary_by_day_equals_the_sum_of_events(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    from google.protobuf import timestamp_pb2

    integration = await enabled_integration(integrations, tenant)
    days = ["2026-01-30T23:59:59Z", "2026-01-31T00:00:00Z", "2026-01-31T12:00:00Z"]
    events = []
    for n, when in enumerate(days):
        ts = timestamp_pb2.Timestamp()
        ts.FromJsonString(when)
        events.append(event(integration, f"d{n}", cost_cents=n + 1, input_tokens=10, occurred_at=ts))
    await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(tenant_id=tenant, events=events))
    start, end = timestamp_pb2.Timestamp(), timestamp_pb2.Timestamp()
    start.FromJsonString("2026-01-01T00:00:00Z")
    end.FromJsonString("2026-02-01T00:00:00Z")
    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(
        tenant_id=tenant, start_time=start, end_time=end, group_by=[pb.USAGE_GROUP_BY_DAY]
    ))
    assert [(r.day, r.requests, r.cost_cents) for r in summary.rows] == [
        ("2026-01-30", 1, 1), ("2026-01-31", 2, 5)
    ]
    assert (summary.total.requests, summary.total.cost_cents, summary.total.input_tokens) == (3, 6, 30)
    code, _, fields = await refused(admission.GetUsageSummary(pb.GetUsageSummaryRequest(
        tenant_id=tenant, start_time=end, end_time=start
    )))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "end_time" in fields


# --- tenant isolation -----------------------------------------------------------------------


async def test_another_tenant_sees_nothing_of_admissions(
    admission: Admission, integrations: Integrations, tenant: str, other_tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await admit(admission, tenant, integration, "mine", estimated_cost_cents=50)
    await settle(admission, tenant, "mine", cost_cents=50)
    not_found = grpc.StatusCode.NOT_FOUND
    assert (await refused(admit(admission, other_tenant, integration)))[0] == not_found
    assert (await refused(settle(admission, other_tenant, "mine", cost_cents=50)))[0] == not_found
    assert (await refused(admission.GetAdmissionPolicy(pb.GetAdmissionPolicyRequest(
        tenant_id=other_tenant, integration_id=integration))))[0] == not_found
    assert (await refused(set_policy(admission, other_tenant, integration)))[0] == not_found
    assert (await refused(admission.GetUsageSummary(pb.GetUsageSummaryRequest(
        tenant_id=other_tenant, integration_id=integration))))[0] == not_found
    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(tenant_id=other_tenant))
    assert summary.total.requests == 0 and list(summary.rows) == []
    # The same call_id is free for another tenant's own integration.
    theirs = await enabled_integration(integrations, other_tenant)
    assert (await admit(admission, other_tenant, theirs, "mine")).verdict == pb.ADMISSION_VERDICT_ALLOW


async def test_usage_recorded_by_record_usage_counts_against_the_budget(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    """The month's totals come from a trigger on usage_events, so every writer is counted."""
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await integrations.RecordUsage(integrations_pb2.RecordUsageRequest(
        tenant_id=tenant, integration_id=integration, tokens=5, cost_cents=70
    ))
    await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant, events=[event(integration, "batch", cost_cents=20)]
    ))
    response = await admit(admission, tenant, integration, estimated_cost_cents=11)
    assert reasons(response) == [pb.ADMISSION_REASON_BUDGET_EXCEEDED]
    assert limit(response, pb.LIMIT_KIND_BUDGET).used == 90
    assert limit(response, pb.LIMIT_KIND_TOKENS).used == 5


async def test_a_call_id_reported_by_batch_and_then_admitted_does_not_jam_admission(
    admission: Admission, integrations: Integrations, tenant: str
) -> None:
    integration = await enabled_integration(integrations, tenant, budget_limit_cents=100)
    await set_policy(admission, tenant, integration, ttl_seconds=1)
    await admission.RecordUsageBatch(pb.RecordUsageBatchRequest(
        tenant_id=tenant, events=[event(integration, "both", cost_cents=3)]
    ))
    await admit(admission, tenant, integration, "both", estimated_cost_cents=50)
    assert await refused(settle(admission, tenant, "both", cost_cents=3)) == (
        grpc.StatusCode.FAILED_PRECONDITION, "CALL_ID_CONFLICT", {}
    )
    await asyncio.sleep(1.2)
    # The reservation expired; the batch event stays the call's usage, the estimate is dropped.
    after = await admit(admission, tenant, integration, estimated_cost_cents=1)
    assert after.verdict == pb.ADMISSION_VERDICT_ALLOW
    summary = await admission.GetUsageSummary(pb.GetUsageSummaryRequest(tenant_id=tenant))
    assert (summary.total.requests, summary.total.cost_cents) == (1, 3)
    assert limit(await admit(admission, tenant, integration), pb.LIMIT_KIND_BUDGET).used == 3
