"""PreventionService end to end through the real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta, timezone

import grpc
import pytest
from google.protobuf import struct_pb2, timestamp_pb2

from integrations.v1 import prevention_pb2 as pb
from integrations.v1 import prevention_pb2_grpc
from tests.support import RichError, RunningServer, rich_error
from tests.unit.test_prevention_contract import BREAKS as RULE_BREAKS


@pytest.fixture
def stub(server: RunningServer) -> prevention_pb2_grpc.PreventionServiceStub:
    return server.stub(prevention_pb2_grpc.PreventionServiceStub)


def candidate(tenant: str, **fields: object) -> pb.PreventionCandidate:
    signature = struct_pb2.Struct()
    signature.update({"path": "/v1/chat", "tokens": 12})
    values: dict[str, object] = {
        "policy_id": "policy-1",
        "pattern_id": "pattern-1",
        "tenant_id": tenant,
        "blocked_incident_id": "inc-9",
        "original_incident_id": "inc-1",
        "signature_match_confidence": 0.6,
        "policy_mode": "active",
        "pattern_signature": signature,
        "is_simulated": False,
    }
    values.update(fields)
    return pb.PreventionCandidate(**values)  # type: ignore[arg-type]


async def create(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, request_id: str = "", **fields: object
) -> pb.PreventionRecord:
    return await stub.CreatePreventionRecord(
        pb.CreatePreventionRecordRequest(candidate=candidate(tenant, **fields), request_id=request_id)
    )


async def count(stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str) -> int:
    listed = await stub.ListPreventionRecords(pb.ListPreventionRecordsRequest(tenant_id=tenant))
    return listed.total_size


def at(value: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


async def failure(call: Awaitable[object]) -> RichError:
    """The rich error of a call that must fail."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rich_error(caught.value)


def test_there_is_no_update_or_delete_rpc() -> None:
    methods = set(pb.DESCRIPTOR.services_by_name["PreventionService"].methods_by_name)
    assert methods == {
        "ValidatePreventionCandidate",
        "CreatePreventionRecord",
        "GetPreventionRecord",
        "ListPreventionRecords",
        "ValidatePreventionForGraduation",
        "EvaluateGraduation",
        "GetPreventionContract",
    }


async def test_contract_is_published(stub: prevention_pb2_grpc.PreventionServiceStub) -> None:
    contract = await stub.GetPreventionContract(pb.GetPreventionContractRequest())
    assert contract.version == "1.0.0"
    assert contract.frozen_at.ToDatetime(tzinfo=timezone.utc) == datetime(
        2025, 12, 23, tzinfo=timezone.utc
    )
    assert [r.rule for r in contract.rules] == [rule for rule, _ in RULE_BREAKS]
    assert contract.min_signature_confidence == 0.6


async def test_validate_reports_each_rule_and_stores_nothing(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str
) -> None:
    valid = await stub.ValidatePreventionCandidate(
        pb.ValidatePreventionCandidateRequest(candidate=candidate(tenant))
    )
    assert (valid.valid, valid.rule, valid.contract_version) == (True, "", "1.0.0")
    for rule, change in RULE_BREAKS:
        reply = await stub.ValidatePreventionCandidate(
            pb.ValidatePreventionCandidateRequest(candidate=candidate(tenant, **change))
        )
        assert (reply.valid, reply.rule) == (False, rule)
        assert reply.details
    assert await count(stub, tenant) == 0


async def test_create_refuses_each_rule_as_failed_precondition(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str
) -> None:
    for rule, change in RULE_BREAKS:
        err = await failure(create(stub, tenant, request_id=f"r-{rule}", **change))
        assert err.code == grpc.StatusCode.FAILED_PRECONDITION, rule
        assert err.reason == rule
        assert err.metadata["contract_version"] == "1.0.0"
    # Several rules broken at once: the first in contract order is reported.
    err = await failure(
        create(stub, tenant, policy_id="", incident_created=True, signature_match_confidence=0.1)
    )
    assert err.reason == "INCIDENT_CREATED"
    assert await count(stub, tenant) == 0


async def test_create_stores_the_candidate_with_contract_version(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str
) -> None:
    created = await create(stub, tenant, is_simulated=True)
    assert created.contract_version == "1.0.0"
    assert created.tenant_id == tenant and created.policy_id == "policy-1"
    assert created.signature_match_confidence == 0.6
    assert dict(created.pattern_signature) == {"path": "/v1/chat", "tokens": 12}
    assert created.is_simulated and not created.incident_created
    fetched = await stub.GetPreventionRecord(
        pb.GetPreventionRecordRequest(tenant_id=tenant, record_id=created.id)
    )
    assert fetched == created


async def test_request_id_makes_create_idempotent(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, other_tenant: str
) -> None:
    first = await create(stub, tenant, request_id="once")
    again = await create(stub, tenant, request_id="once")
    assert again == first
    assert await count(stub, tenant) == 1
    # The same key in another tenant is another create, never tenant A's record.
    theirs = await create(stub, other_tenant, request_id="once")
    assert theirs.id != first.id and theirs.tenant_id == other_tenant


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"tenant_id": "tenant-a"}, "candidate.tenant_id", id="tenant-not-uuid"),
        pytest.param({"signature_match_confidence": 1.01}, "candidate.signature_match_confidence",
                     id="confidence-above-1"),
        pytest.param({"policy_id": "p" * 129}, "candidate.policy_id", id="policy-too-long"),
    ],
)
async def test_malformed_input_is_invalid_argument_and_leaves_data_intact(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, change: dict[str, object],
    field: str,
) -> None:
    kept = await create(stub, tenant, request_id="kept")
    err = await failure(create(stub, tenant, request_id="kept", **change))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in err.field_violations
    err = await failure(
        stub.ValidatePreventionCandidate(
            pb.ValidatePreventionCandidateRequest(candidate=candidate(tenant, **change))
        )
    )
    assert field in err.field_violations
    listed = await stub.ListPreventionRecords(pb.ListPreventionRecordsRequest(tenant_id=tenant))
    assert list(listed.prevention_records) == [kept]


async def test_get_is_not_found_for_another_tenant_like_a_missing_id(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, other_tenant: str
) -> None:
    created = await create(stub, tenant)
    theirs = await failure(
        stub.GetPreventionRecord(pb.GetPreventionRecordRequest(tenant_id=other_tenant, record_id=created.id))
    )
    missing_id = str(uuid.uuid4())
    missing = await failure(
        stub.GetPreventionRecord(pb.GetPreventionRecordRequest(tenant_id=tenant, record_id=missing_id))
    )
    assert theirs.code == missing.code == grpc.StatusCode.NOT_FOUND
    assert theirs.message == missing.message.replace(missing_id, created.id)
    bad = await failure(
        stub.GetPreventionRecord(pb.GetPreventionRecordRequest(tenant_id=tenant, record_id="x"))
    )
    assert "record_id" in bad.field_violations


async def test_list_is_newest_first_filtered_and_paged(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, other_tenant: str
) -> None:
    made = [
        await create(stub, tenant, policy_id=f"p{i % 2}", pattern_id=f"q{i % 3}") for i in range(5)
    ]
    await create(stub, other_tenant, policy_id="p0")
    newest_first = [r.id for r in reversed(made)]
    ids, token = [], ""
    while True:
        page = await stub.ListPreventionRecords(
            pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=2, page_token=token)
        )
        assert page.total_size == 5
        ids += [r.id for r in page.prevention_records]
        token = page.next_page_token
        if not token:
            break
    assert ids == newest_first
    only = await stub.ListPreventionRecords(
        pb.ListPreventionRecordsRequest(tenant_id=tenant, policy_id="p0", pattern_id="q0")
    )
    assert [r.id for r in only.prevention_records] == [made[0].id]
    by_policy = await stub.ListPreventionRecords(
        pb.ListPreventionRecordsRequest(tenant_id=tenant, policy_id="p0", page_size=1)
    )
    assert by_policy.total_size == 3 and by_policy.prevention_records[0].id == made[4].id
    err = await failure(
        stub.ListPreventionRecords(
            pb.ListPreventionRecordsRequest(
                tenant_id=tenant, policy_id="p1", page_token=by_policy.next_page_token
            )
        )
    )
    assert "page_token" in err.field_violations
    err = await failure(
        stub.ListPreventionRecords(pb.ListPreventionRecordsRequest(tenant_id=tenant, page_size=-1))
    )
    assert "page_size" in err.field_violations
    theirs = await stub.ListPreventionRecords(
        pb.ListPreventionRecordsRequest(tenant_id=other_tenant)
    )
    assert theirs.total_size == 1 and made[0].id not in {r.id for r in theirs.prevention_records}


async def test_graduation_of_one_record_on_both_sides_of_the_activation(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, other_tenant: str
) -> None:
    real = await create(stub, tenant)
    simulated = await create(stub, tenant, is_simulated=True)
    created_at = real.create_time.ToDatetime(tzinfo=timezone.utc)

    async def verdict(record: pb.PreventionRecord, activated: datetime) -> tuple[bool, str]:
        reply = await stub.ValidatePreventionForGraduation(
            pb.ValidatePreventionForGraduationRequest(
                tenant_id=tenant, record_id=record.id, policy_activated_at=at(activated)
            )
        )
        return reply.counts, reply.reason

    assert await verdict(real, created_at) == (True, "QUALIFIES")
    assert await verdict(real, created_at - timedelta(days=1)) == (True, "QUALIFIES")
    assert await verdict(real, created_at + timedelta(microseconds=1)) == (
        False, "BEFORE_ACTIVATION",
    )
    assert await verdict(simulated, created_at - timedelta(days=1)) == (False, "SIMULATED")
    missing = await failure(
        stub.ValidatePreventionForGraduation(
            pb.ValidatePreventionForGraduationRequest(tenant_id=tenant, record_id=real.id)
        )
    )
    assert "policy_activated_at" in missing.field_violations
    theirs = await failure(
        stub.ValidatePreventionForGraduation(
            pb.ValidatePreventionForGraduationRequest(
                tenant_id=other_tenant, record_id=real.id, policy_activated_at=at(created_at)
            )
        )
    )
    assert theirs.code == grpc.StatusCode.NOT_FOUND
    assert theirs.message == f"prevention record {real.id!r} not found"


async def test_evaluate_graduation_counts_a_policy(
    stub: prevention_pb2_grpc.PreventionServiceStub, tenant: str, other_tenant: str
) -> None:
    early = await create(stub, tenant)
    await create(stub, tenant, is_simulated=True)
    late = await create(stub, tenant)
    await create(stub, tenant, policy_id="other-policy")
    activation = late.create_time.ToDatetime(tzinfo=timezone.utc)
    assert activation > early.create_time.ToDatetime(tzinfo=timezone.utc)

    async def evaluate(who: str, activated: datetime) -> tuple[int, int, int, int]:
        reply = await stub.EvaluateGraduation(
            pb.EvaluateGraduationRequest(
                tenant_id=who, policy_id="policy-1", policy_activated_at=at(activated)
            )
        )
        return (
            reply.qualifying_records,
            reply.simulated_records,
            reply.before_activation_records,
            reply.total_records,
        )

    assert await evaluate(tenant, activation) == (1, 1, 1, 3)
    assert await evaluate(tenant, activation + timedelta(microseconds=1)) == (0, 1, 2, 3)
    assert await evaluate(tenant, activation - timedelta(days=1)) == (2, 1, 0, 3)
    assert await evaluate(other_tenant, activation - timedelta(days=1)) == (0, 0, 0, 0)
    err = await failure(
        stub.EvaluateGraduation(pb.EvaluateGraduationRequest(tenant_id=tenant, policy_id="policy-1"))
    )
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "policy_activated_at" in err.field_violations
