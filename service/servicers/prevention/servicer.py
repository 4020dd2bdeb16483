"""integrations.v1.PreventionService on top of `engines.prevention.records.PreventionEngine`."""

from __future__ import annotations

from datetime import datetime

from engines.prevention.contract import (
    CONTRACT_FROZEN_AT,
    CONTRACT_VERSION,
    MIN_SIGNATURE_CONFIDENCE,
    RULES,
    PreventionCandidate,
)
from engines.prevention.records import PreventionEngine, PreventionRecord, RecordFilters
from integrations.v1 import prevention_pb2, prevention_pb2_grpc
from service.call_info import Context
from service.convert import from_struct, from_timestamp, set_timestamp, to_struct
from service.servicers.listing import list_response

__all__ = ["PreventionServicer", "candidate_from_proto", "record_to_proto"]


# Fields a candidate and a record share with the same name and a plain (non-Struct) type.
_SCALAR_FIELDS = (
    "policy_id",
    "pattern_id",
    "tenant_id",
    "blocked_incident_id",
    "original_incident_id",
    "signature_match_confidence",
    "policy_mode",
    "incident_created",
    "is_simulated",
)


def candidate_from_proto(message: prevention_pb2.PreventionCandidate) -> PreventionCandidate:
    return PreventionCandidate(
        **{name: getattr(message, name) for name in _SCALAR_FIELDS},
        pattern_signature=from_struct(message.pattern_signature, field="candidate.pattern_signature"),
        request_signature=from_struct(message.request_signature, field="candidate.request_signature"),
    )


def record_to_proto(record: PreventionRecord) -> prevention_pb2.PreventionRecord:
    candidate = record.candidate
    message = prevention_pb2.PreventionRecord(
        id=record.id,
        contract_version=record.contract_version,
        pattern_signature=to_struct(candidate.pattern_signature),
        request_signature=to_struct(candidate.request_signature),
        **{name: getattr(candidate, name) for name in _SCALAR_FIELDS},
    )
    set_timestamp(message.create_time, record.create_time)
    return message


def _activation(
    request: prevention_pb2.ValidatePreventionForGraduationRequest
    | prevention_pb2.EvaluateGraduationRequest,
) -> datetime | None:
    """The request's policy_activated_at, or None when unset (the engine refuses that)."""
    return from_timestamp(
        request.policy_activated_at,
        present=request.HasField("policy_activated_at"),
        field="policy_activated_at",
    )


class PreventionServicer(prevention_pb2_grpc.PreventionServiceServicer):
    """Translates PreventionService calls to the engine; errors are mapped by the interceptor."""

    def __init__(self, engine: PreventionEngine) -> None:
        self._engine = engine

    async def ValidatePreventionCandidate(
        self, request: prevention_pb2.ValidatePreventionCandidateRequest, context: Context
    ) -> prevention_pb2.ValidatePreventionCandidateResponse:
        result = self._engine.validate_candidate(candidate_from_proto(request.candidate))
        return prevention_pb2.ValidatePreventionCandidateResponse(
            valid=result.valid,
            rule=result.rule,
            details=result.details,
            contract_version=CONTRACT_VERSION,
        )

    async def CreatePreventionRecord(
        self, request: prevention_pb2.CreatePreventionRecordRequest, context: Context
    ) -> prevention_pb2.PreventionRecord:
        record = await self._engine.create(
            candidate_from_proto(request.candidate), request_id=request.request_id
        )
        return record_to_proto(record)

    async def GetPreventionRecord(
        self, request: prevention_pb2.GetPreventionRecordRequest, context: Context
    ) -> prevention_pb2.PreventionRecord:
        return record_to_proto(await self._engine.get(request.tenant_id, request.record_id))

    async def ListPreventionRecords(
        self, request: prevention_pb2.ListPreventionRecordsRequest, context: Context
    ) -> prevention_pb2.ListPreventionRecordsResponse:
        filters = RecordFilters(
            policy_id=request.policy_id or None, pattern_id=request.pattern_id or None
        )
        page = await self._engine.list(
            request.tenant_id, request.page_size, request.page_token, filters
        )
        return list_response(
            prevention_pb2.ListPreventionRecordsResponse, "prevention_records", page, record_to_proto
        )

    async def ValidatePreventionForGraduation(
        self, request: prevention_pb2.ValidatePreventionForGraduationRequest, context: Context
    ) -> prevention_pb2.ValidatePreventionForGraduationResponse:
        verdict = await self._engine.graduation_verdict(
            request.tenant_id, request.record_id, _activation(request)
        )
        return prevention_pb2.ValidatePreventionForGraduationResponse(
            counts=verdict.counts, reason=verdict.reason.value
        )

    async def EvaluateGraduation(
        self, request: prevention_pb2.EvaluateGraduationRequest, context: Context
    ) -> prevention_pb2.EvaluateGraduationResponse:
        counts = await self._engine.evaluate_graduation(
            request.tenant_id, request.policy_id, _activation(request)
        )
        return prevention_pb2.EvaluateGraduationResponse(
            qualifying_records=counts.qualifying,
            simulated_records=counts.simulated,
            before_activation_records=counts.before_activation,
            total_records=counts.total,
        )

    async def GetPreventionContract(
        self, request: prevention_pb2.GetPreventionContractRequest, context: Context
    ) -> prevention_pb2.GetPreventionContractResponse:
        response = prevention_pb2.GetPreventionContractResponse(
            version=CONTRACT_VERSION,
            rules=[
                prevention_pb2.PreventionContractRule(rule=r.rule, description=r.description)
                for r in RULES
            ],
            min_signature_confidence=MIN_SIGNATURE_CONFIDENCE,
        )
        set_timestamp(response.frozen_at, CONTRACT_FROZEN_AT)
        return response
