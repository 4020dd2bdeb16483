import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from integrations.v1 import integrations_pb2 as _integrations_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdmissionVerdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADMISSION_VERDICT_UNSPECIFIED: _ClassVar[AdmissionVerdict]
    ADMISSION_VERDICT_ALLOW: _ClassVar[AdmissionVerdict]
    ADMISSION_VERDICT_WARN: _ClassVar[AdmissionVerdict]
    ADMISSION_VERDICT_BLOCK: _ClassVar[AdmissionVerdict]

class AdmissionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADMISSION_REASON_UNSPECIFIED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_BUDGET_EXCEEDED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_TOKEN_LIMIT_EXCEEDED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_RATE_LIMITED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_TOKEN_RATE_LIMITED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_PARALLEL_LIMIT: _ClassVar[AdmissionReason]
    ADMISSION_REASON_INTEGRATION_DISABLED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_INTEGRATION_UNHEALTHY: _ClassVar[AdmissionReason]
    ADMISSION_REASON_INTEGRATION_DEGRADED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_THRESHOLD_CROSSED: _ClassVar[AdmissionReason]
    ADMISSION_REASON_ADMITTED_UNCHECKED: _ClassVar[AdmissionReason]

class LimitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIMIT_KIND_UNSPECIFIED: _ClassVar[LimitKind]
    LIMIT_KIND_BUDGET: _ClassVar[LimitKind]
    LIMIT_KIND_TOKENS: _ClassVar[LimitKind]
    LIMIT_KIND_REQUESTS_PER_MINUTE: _ClassVar[LimitKind]
    LIMIT_KIND_TOKENS_PER_MINUTE: _ClassVar[LimitKind]
    LIMIT_KIND_PARALLEL_CALLS: _ClassVar[LimitKind]

class CallOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_OUTCOME_UNSPECIFIED: _ClassVar[CallOutcome]
    CALL_OUTCOME_SUCCESS: _ClassVar[CallOutcome]
    CALL_OUTCOME_ERROR: _ClassVar[CallOutcome]
    CALL_OUTCOME_TIMEOUT: _ClassVar[CallOutcome]
    CALL_OUTCOME_CANCELLED: _ClassVar[CallOutcome]
    CALL_OUTCOME_EXPIRED: _ClassVar[CallOutcome]

class UsageEventStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_EVENT_STATUS_UNSPECIFIED: _ClassVar[UsageEventStatus]
    USAGE_EVENT_STATUS_RECORDED: _ClassVar[UsageEventStatus]
    USAGE_EVENT_STATUS_DUPLICATE: _ClassVar[UsageEventStatus]
    USAGE_EVENT_STATUS_REJECTED: _ClassVar[UsageEventStatus]

class UsageGroupBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_GROUP_BY_UNSPECIFIED: _ClassVar[UsageGroupBy]
    USAGE_GROUP_BY_DAY: _ClassVar[UsageGroupBy]
    USAGE_GROUP_BY_MODEL: _ClassVar[UsageGroupBy]
    USAGE_GROUP_BY_INTEGRATION: _ClassVar[UsageGroupBy]
ADMISSION_VERDICT_UNSPECIFIED: AdmissionVerdict
ADMISSION_VERDICT_ALLOW: AdmissionVerdict
ADMISSION_VERDICT_WARN: AdmissionVerdict
ADMISSION_VERDICT_BLOCK: AdmissionVerdict
ADMISSION_REASON_UNSPECIFIED: AdmissionReason
ADMISSION_REASON_BUDGET_EXCEEDED: AdmissionReason
ADMISSION_REASON_TOKEN_LIMIT_EXCEEDED: AdmissionReason
ADMISSION_REASON_RATE_LIMITED: AdmissionReason
ADMISSION_REASON_TOKEN_RATE_LIMITED: AdmissionReason
ADMISSION_REASON_PARALLEL_LIMIT: AdmissionReason
ADMISSION_REASON_INTEGRATION_DISABLED: AdmissionReason
ADMISSION_REASON_INTEGRATION_UNHEALTHY: AdmissionReason
ADMISSION_REASON_INTEGRATION_DEGRADED: AdmissionReason
ADMISSION_REASON_THRESHOLD_CROSSED: AdmissionReason
ADMISSION_REASON_ADMITTED_UNCHECKED: AdmissionReason
LIMIT_KIND_UNSPECIFIED: LimitKind
LIMIT_KIND_BUDGET: LimitKind
LIMIT_KIND_TOKENS: LimitKind
LIMIT_KIND_REQUESTS_PER_MINUTE: LimitKind
LIMIT_KIND_TOKENS_PER_MINUTE: LimitKind
LIMIT_KIND_PARALLEL_CALLS: LimitKind
CALL_OUTCOME_UNSPECIFIED: CallOutcome
CALL_OUTCOME_SUCCESS: CallOutcome
CALL_OUTCOME_ERROR: CallOutcome
CALL_OUTCOME_TIMEOUT: CallOutcome
CALL_OUTCOME_CANCELLED: CallOutcome
CALL_OUTCOME_EXPIRED: CallOutcome
USAGE_EVENT_STATUS_UNSPECIFIED: UsageEventStatus
USAGE_EVENT_STATUS_RECORDED: UsageEventStatus
USAGE_EVENT_STATUS_DUPLICATE: UsageEventStatus
USAGE_EVENT_STATUS_REJECTED: UsageEventStatus
USAGE_GROUP_BY_UNSPECIFIED: UsageGroupBy
USAGE_GROUP_BY_DAY: UsageGroupBy
USAGE_GROUP_BY_MODEL: UsageGroupBy
USAGE_GROUP_BY_INTEGRATION: UsageGroupBy

class AdmissionReasonDetail(_message.Message):
    __slots__ = ("reason", "limit", "message", "retry_after")
    REASON_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    reason: AdmissionReason
    limit: LimitKind
    message: str
    retry_after: _duration_pb2.Duration
    def __init__(self, reason: _Optional[_Union[AdmissionReason, str]] = ..., limit: _Optional[_Union[LimitKind, str]] = ..., message: _Optional[str] = ..., retry_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class LimitSnapshot(_message.Message):
    __slots__ = ("kind", "limit", "used", "reserved", "remaining", "period_start", "period_end", "model")
    KIND_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    kind: LimitKind
    limit: int
    used: int
    reserved: int
    remaining: int
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    model: str
    def __init__(self, kind: _Optional[_Union[LimitKind, str]] = ..., limit: _Optional[int] = ..., used: _Optional[int] = ..., reserved: _Optional[int] = ..., remaining: _Optional[int] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., model: _Optional[str] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("id", "call_id", "estimated_tokens", "estimated_cost_cents", "create_time", "expire_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    call_id: str
    estimated_tokens: int
    estimated_cost_cents: int
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., call_id: _Optional[str] = ..., estimated_tokens: _Optional[int] = ..., estimated_cost_cents: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CallTarget(_message.Message):
    __slots__ = ("integration_id", "provider_type", "base_url", "model", "credential_ref", "credential")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    provider_type: _integrations_pb2.ProviderType
    base_url: str
    model: str
    credential_ref: str
    credential: str
    def __init__(self, integration_id: _Optional[str] = ..., provider_type: _Optional[_Union[_integrations_pb2.ProviderType, str]] = ..., base_url: _Optional[str] = ..., model: _Optional[str] = ..., credential_ref: _Optional[str] = ..., credential: _Optional[str] = ...) -> None: ...

class AdmitCallRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "call_id", "model", "estimated_input_tokens", "estimated_max_output_tokens", "estimated_cost_cents", "include_credential")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    call_id: str
    model: str
    estimated_input_tokens: int
    estimated_max_output_tokens: int
    estimated_cost_cents: int
    include_credential: bool
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., call_id: _Optional[str] = ..., model: _Optional[str] = ..., estimated_input_tokens: _Optional[int] = ..., estimated_max_output_tokens: _Optional[int] = ..., estimated_cost_cents: _Optional[int] = ..., include_credential: _Optional[bool] = ...) -> None: ...

class AdmitCallResponse(_message.Message):
    __slots__ = ("verdict", "reasons", "deciding_limit", "limits", "reservation", "target", "replayed", "unchecked")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    DECIDING_LIMIT_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    UNCHECKED_FIELD_NUMBER: _ClassVar[int]
    verdict: AdmissionVerdict
    reasons: _containers.RepeatedCompositeFieldContainer[AdmissionReasonDetail]
    deciding_limit: LimitKind
    limits: _containers.RepeatedCompositeFieldContainer[LimitSnapshot]
    reservation: Reservation
    target: CallTarget
    replayed: bool
    unchecked: bool
    def __init__(self, verdict: _Optional[_Union[AdmissionVerdict, str]] = ..., reasons: _Optional[_Iterable[_Union[AdmissionReasonDetail, _Mapping]]] = ..., deciding_limit: _Optional[_Union[LimitKind, str]] = ..., limits: _Optional[_Iterable[_Union[LimitSnapshot, _Mapping]]] = ..., reservation: _Optional[_Union[Reservation, _Mapping]] = ..., target: _Optional[_Union[CallTarget, _Mapping]] = ..., replayed: _Optional[bool] = ..., unchecked: _Optional[bool] = ...) -> None: ...

class SettleCallRequest(_message.Message):
    __slots__ = ("tenant_id", "call_id", "reservation_id", "input_tokens", "output_tokens", "cost_cents", "latency", "outcome", "error_code", "model", "session_id", "agent_id", "metadata")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    call_id: str
    reservation_id: str
    input_tokens: int
    output_tokens: int
    cost_cents: int
    latency: _duration_pb2.Duration
    outcome: CallOutcome
    error_code: str
    model: str
    session_id: str
    agent_id: str
    metadata: _struct_pb2.Struct
    def __init__(self, tenant_id: _Optional[str] = ..., call_id: _Optional[str] = ..., reservation_id: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost_cents: _Optional[int] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., outcome: _Optional[_Union[CallOutcome, str]] = ..., error_code: _Optional[str] = ..., model: _Optional[str] = ..., session_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SettleCallResponse(_message.Message):
    __slots__ = ("usage_event_id", "reservation_id", "recorded")
    USAGE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    usage_event_id: str
    reservation_id: str
    recorded: bool
    def __init__(self, usage_event_id: _Optional[str] = ..., reservation_id: _Optional[str] = ..., recorded: _Optional[bool] = ...) -> None: ...

class UsageEventInput(_message.Message):
    __slots__ = ("integration_id", "call_id", "model", "input_tokens", "output_tokens", "cost_cents", "latency", "outcome", "error_code", "occurred_at", "event_time", "session_id", "agent_id", "policy_result", "metadata")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_RESULT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    call_id: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_cents: int
    latency: _duration_pb2.Duration
    outcome: CallOutcome
    error_code: str
    occurred_at: _timestamp_pb2.Timestamp
    event_time: _timestamp_pb2.Timestamp
    session_id: str
    agent_id: str
    policy_result: AdmissionVerdict
    metadata: _struct_pb2.Struct
    def __init__(self, integration_id: _Optional[str] = ..., call_id: _Optional[str] = ..., model: _Optional[str] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cost_cents: _Optional[int] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., outcome: _Optional[_Union[CallOutcome, str]] = ..., error_code: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., session_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., policy_result: _Optional[_Union[AdmissionVerdict, str]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RecordUsageBatchRequest(_message.Message):
    __slots__ = ("tenant_id", "events")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    events: _containers.RepeatedCompositeFieldContainer[UsageEventInput]
    def __init__(self, tenant_id: _Optional[str] = ..., events: _Optional[_Iterable[_Union[UsageEventInput, _Mapping]]] = ...) -> None: ...

class UsageEventResult(_message.Message):
    __slots__ = ("index", "status", "usage_event_id", "error_reason", "error_message")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    USAGE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    index: int
    status: UsageEventStatus
    usage_event_id: str
    error_reason: str
    error_message: str
    def __init__(self, index: _Optional[int] = ..., status: _Optional[_Union[UsageEventStatus, str]] = ..., usage_event_id: _Optional[str] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class RecordUsageBatchResponse(_message.Message):
    __slots__ = ("results", "recorded_count", "rejected_count")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    RECORDED_COUNT_FIELD_NUMBER: _ClassVar[int]
    REJECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[UsageEventResult]
    recorded_count: int
    rejected_count: int
    def __init__(self, results: _Optional[_Iterable[_Union[UsageEventResult, _Mapping]]] = ..., recorded_count: _Optional[int] = ..., rejected_count: _Optional[int] = ...) -> None: ...

class GetUsageSummaryRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "start_time", "end_time", "group_by")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    group_by: _containers.RepeatedScalarFieldContainer[UsageGroupBy]
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., group_by: _Optional[_Iterable[_Union[UsageGroupBy, str]]] = ...) -> None: ...

class UsageSummaryRow(_message.Message):
    __slots__ = ("day", "model", "integration_id", "requests", "input_tokens", "output_tokens", "tokens", "cost_cents", "errors")
    DAY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    day: str
    model: str
    integration_id: str
    requests: int
    input_tokens: int
    output_tokens: int
    tokens: int
    cost_cents: int
    errors: int
    def __init__(self, day: _Optional[str] = ..., model: _Optional[str] = ..., integration_id: _Optional[str] = ..., requests: _Optional[int] = ..., input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., tokens: _Optional[int] = ..., cost_cents: _Optional[int] = ..., errors: _Optional[int] = ...) -> None: ...

class GetUsageSummaryResponse(_message.Message):
    __slots__ = ("rows", "total", "start_time", "end_time")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[UsageSummaryRow]
    total: UsageSummaryRow
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, rows: _Optional[_Iterable[_Union[UsageSummaryRow, _Mapping]]] = ..., total: _Optional[_Union[UsageSummaryRow, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ModelLimits(_message.Message):
    __slots__ = ("model", "budget_limit_cents", "token_limit", "rate_limit_rpm", "tokens_per_minute", "max_parallel_calls")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_CALLS_FIELD_NUMBER: _ClassVar[int]
    model: str
    budget_limit_cents: int
    token_limit: int
    rate_limit_rpm: int
    tokens_per_minute: int
    max_parallel_calls: int
    def __init__(self, model: _Optional[str] = ..., budget_limit_cents: _Optional[int] = ..., token_limit: _Optional[int] = ..., rate_limit_rpm: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ..., max_parallel_calls: _Optional[int] = ...) -> None: ...

class AdmissionPolicy(_message.Message):
    __slots__ = ("integration_id", "tokens_per_minute", "max_parallel_calls", "reservation_ttl", "warn_percent", "update_time", "limit_period", "period_time_zone", "period_anchor", "rolling_window", "model_limits", "fail_open")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MAX_PARALLEL_CALLS_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_TTL_FIELD_NUMBER: _ClassVar[int]
    WARN_PERCENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    ROLLING_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MODEL_LIMITS_FIELD_NUMBER: _ClassVar[int]
    FAIL_OPEN_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tokens_per_minute: int
    max_parallel_calls: int
    reservation_ttl: _duration_pb2.Duration
    warn_percent: int
    update_time: _timestamp_pb2.Timestamp
    limit_period: _integrations_pb2.LimitPeriod
    period_time_zone: str
    period_anchor: int
    rolling_window: _duration_pb2.Duration
    model_limits: _containers.RepeatedCompositeFieldContainer[ModelLimits]
    fail_open: bool
    def __init__(self, integration_id: _Optional[str] = ..., tokens_per_minute: _Optional[int] = ..., max_parallel_calls: _Optional[int] = ..., reservation_ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., warn_percent: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit_period: _Optional[_Union[_integrations_pb2.LimitPeriod, str]] = ..., period_time_zone: _Optional[str] = ..., period_anchor: _Optional[int] = ..., rolling_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., model_limits: _Optional[_Iterable[_Union[ModelLimits, _Mapping]]] = ..., fail_open: _Optional[bool] = ...) -> None: ...

class GetAdmissionPolicyRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class UpdateAdmissionPolicyRequest(_message.Message):
    __slots__ = ("tenant_id", "policy")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    policy: AdmissionPolicy
    def __init__(self, tenant_id: _Optional[str] = ..., policy: _Optional[_Union[AdmissionPolicy, _Mapping]] = ...) -> None: ...

class LimitEvent(_message.Message):
    __slots__ = ("id", "cursor", "tenant_id", "integration_id", "kind", "model", "threshold_percent", "period_start", "period_end", "used", "reserved", "limit", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    cursor: str
    tenant_id: str
    integration_id: str
    kind: LimitKind
    model: str
    threshold_percent: int
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    used: int
    reserved: int
    limit: int
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., cursor: _Optional[str] = ..., tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., kind: _Optional[_Union[LimitKind, str]] = ..., model: _Optional[str] = ..., threshold_percent: _Optional[int] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., used: _Optional[int] = ..., reserved: _Optional[int] = ..., limit: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListLimitEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "page_size", "page_token")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    page_size: int
    page_token: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLimitEventsResponse(_message.Message):
    __slots__ = ("limit_events", "next_page_token", "total_size")
    LIMIT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    limit_events: _containers.RepeatedCompositeFieldContainer[LimitEvent]
    next_page_token: str
    total_size: int
    def __init__(self, limit_events: _Optional[_Iterable[_Union[LimitEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class WatchLimitEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "resume_cursor")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    resume_cursor: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., resume_cursor: _Optional[str] = ...) -> None: ...

class LimitWebhook(_message.Message):
    __slots__ = ("tenant_id", "url", "secret_ref", "update_time")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_REF_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    url: str
    secret_ref: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., url: _Optional[str] = ..., secret_ref: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetLimitWebhookRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class UpdateLimitWebhookRequest(_message.Message):
    __slots__ = ("tenant_id", "url", "secret", "rotate_secret")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    ROTATE_SECRET_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    url: str
    secret: str
    rotate_secret: bool
    def __init__(self, tenant_id: _Optional[str] = ..., url: _Optional[str] = ..., secret: _Optional[str] = ..., rotate_secret: _Optional[bool] = ...) -> None: ...

class UpdateLimitWebhookResponse(_message.Message):
    __slots__ = ("webhook", "generated_secret")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    GENERATED_SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook: LimitWebhook
    generated_secret: str
    def __init__(self, webhook: _Optional[_Union[LimitWebhook, _Mapping]] = ..., generated_secret: _Optional[str] = ...) -> None: ...

class DeleteLimitWebhookRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class DeleteLimitWebhookResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...
