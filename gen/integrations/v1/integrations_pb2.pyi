import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from integrations.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProviderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_TYPE_UNSPECIFIED: _ClassVar[ProviderType]
    PROVIDER_TYPE_OPENAI: _ClassVar[ProviderType]
    PROVIDER_TYPE_ANTHROPIC: _ClassVar[ProviderType]
    PROVIDER_TYPE_AZURE_OPENAI: _ClassVar[ProviderType]
    PROVIDER_TYPE_GOOGLE: _ClassVar[ProviderType]
    PROVIDER_TYPE_BEDROCK: _ClassVar[ProviderType]
    PROVIDER_TYPE_CUSTOM: _ClassVar[ProviderType]

class IntegrationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTEGRATION_STATUS_UNSPECIFIED: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_CREATED: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_ENABLED: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_DISABLED: _ClassVar[IntegrationStatus]
    INTEGRATION_STATUS_ERROR: _ClassVar[IntegrationStatus]

class LimitPeriod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIMIT_PERIOD_UNSPECIFIED: _ClassVar[LimitPeriod]
    LIMIT_PERIOD_MONTH: _ClassVar[LimitPeriod]
    LIMIT_PERIOD_WEEK: _ClassVar[LimitPeriod]
    LIMIT_PERIOD_DAY: _ClassVar[LimitPeriod]
    LIMIT_PERIOD_ROLLING: _ClassVar[LimitPeriod]
PROVIDER_TYPE_UNSPECIFIED: ProviderType
PROVIDER_TYPE_OPENAI: ProviderType
PROVIDER_TYPE_ANTHROPIC: ProviderType
PROVIDER_TYPE_AZURE_OPENAI: ProviderType
PROVIDER_TYPE_GOOGLE: ProviderType
PROVIDER_TYPE_BEDROCK: ProviderType
PROVIDER_TYPE_CUSTOM: ProviderType
INTEGRATION_STATUS_UNSPECIFIED: IntegrationStatus
INTEGRATION_STATUS_CREATED: IntegrationStatus
INTEGRATION_STATUS_ENABLED: IntegrationStatus
INTEGRATION_STATUS_DISABLED: IntegrationStatus
INTEGRATION_STATUS_ERROR: IntegrationStatus
LIMIT_PERIOD_UNSPECIFIED: LimitPeriod
LIMIT_PERIOD_MONTH: LimitPeriod
LIMIT_PERIOD_WEEK: LimitPeriod
LIMIT_PERIOD_DAY: LimitPeriod
LIMIT_PERIOD_ROLLING: LimitPeriod

class Integration(_message.Message):
    __slots__ = ("id", "tenant_id", "name", "provider_type", "credential_ref", "config", "default_model", "status", "health_state", "health_message", "health_checked_at", "health_check_time", "budget_limit_cents", "token_limit_month", "rate_limit_rpm", "created_by", "create_time", "update_time", "etag", "consecutive_health_failures", "circuit_open", "circuit_open_time", "circuit_reason", "next_health_probe_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_LIMIT_MONTH_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_HEALTH_FAILURES_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_OPEN_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_REASON_FIELD_NUMBER: _ClassVar[int]
    NEXT_HEALTH_PROBE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    name: str
    provider_type: ProviderType
    credential_ref: str
    config: _struct_pb2.Struct
    default_model: str
    status: IntegrationStatus
    health_state: _common_pb2.HealthState
    health_message: str
    health_checked_at: _timestamp_pb2.Timestamp
    health_check_time: _timestamp_pb2.Timestamp
    budget_limit_cents: int
    token_limit_month: int
    rate_limit_rpm: int
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    consecutive_health_failures: int
    circuit_open: bool
    circuit_open_time: _timestamp_pb2.Timestamp
    circuit_reason: str
    next_health_probe_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., provider_type: _Optional[_Union[ProviderType, str]] = ..., credential_ref: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., default_model: _Optional[str] = ..., status: _Optional[_Union[IntegrationStatus, str]] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., health_message: _Optional[str] = ..., health_checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., health_check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., budget_limit_cents: _Optional[int] = ..., token_limit_month: _Optional[int] = ..., rate_limit_rpm: _Optional[int] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., consecutive_health_failures: _Optional[int] = ..., circuit_open: _Optional[bool] = ..., circuit_open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., circuit_reason: _Optional[str] = ..., next_health_probe_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListIntegrationsRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "status", "provider_type")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    status: IntegrationStatus
    provider_type: ProviderType
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[IntegrationStatus, str]] = ..., provider_type: _Optional[_Union[ProviderType, str]] = ...) -> None: ...

class ListIntegrationsResponse(_message.Message):
    __slots__ = ("integrations", "next_page_token", "total_size")
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    integrations: _containers.RepeatedCompositeFieldContainer[Integration]
    next_page_token: str
    total_size: int
    def __init__(self, integrations: _Optional[_Iterable[_Union[Integration, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetIntegrationRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class CreateIntegrationRequest(_message.Message):
    __slots__ = ("tenant_id", "integration", "request_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration: Integration
    request_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration: _Optional[_Union[Integration, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateIntegrationRequest(_message.Message):
    __slots__ = ("tenant_id", "integration", "update_mask")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration: Integration
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tenant_id: _Optional[str] = ..., integration: _Optional[_Union[Integration, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteIntegrationRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class DeleteIntegrationResponse(_message.Message):
    __slots__ = ("deleted", "integration_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    integration_id: str
    def __init__(self, deleted: _Optional[bool] = ..., integration_id: _Optional[str] = ...) -> None: ...

class EnableIntegrationRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class EnableIntegrationResponse(_message.Message):
    __slots__ = ("integration_id", "status", "message")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    status: IntegrationStatus
    message: str
    def __init__(self, integration_id: _Optional[str] = ..., status: _Optional[_Union[IntegrationStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...

class DisableIntegrationRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class DisableIntegrationResponse(_message.Message):
    __slots__ = ("integration_id", "status", "message")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    status: IntegrationStatus
    message: str
    def __init__(self, integration_id: _Optional[str] = ..., status: _Optional[_Union[IntegrationStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...

class GetHealthStatusRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class GetHealthStatusResponse(_message.Message):
    __slots__ = ("integration_id", "health_state", "health_message", "health_checked_at", "health_check_time")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    health_state: _common_pb2.HealthState
    health_message: str
    health_checked_at: _timestamp_pb2.Timestamp
    health_check_time: _timestamp_pb2.Timestamp
    def __init__(self, integration_id: _Optional[str] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., health_message: _Optional[str] = ..., health_checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., health_check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TestCredentialsRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class TestCredentialsResponse(_message.Message):
    __slots__ = ("integration_id", "health_state", "message", "latency_ms", "checked_at", "check_time", "circuit_open", "consecutive_failures")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_OPEN_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    health_state: _common_pb2.HealthState
    message: str
    latency_ms: int
    checked_at: _timestamp_pb2.Timestamp
    check_time: _timestamp_pb2.Timestamp
    circuit_open: bool
    consecutive_failures: int
    def __init__(self, integration_id: _Optional[str] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., message: _Optional[str] = ..., latency_ms: _Optional[int] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., circuit_open: _Optional[bool] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class ModelLimitsStatus(_message.Message):
    __slots__ = ("model", "budget_limit_cents", "budget_used_cents", "token_limit", "tokens_used", "rate_limit_rpm", "requests_this_minute")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_USED_CENTS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_LIMIT_FIELD_NUMBER: _ClassVar[int]
    TOKENS_USED_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_THIS_MINUTE_FIELD_NUMBER: _ClassVar[int]
    model: str
    budget_limit_cents: int
    budget_used_cents: int
    token_limit: int
    tokens_used: int
    rate_limit_rpm: int
    requests_this_minute: int
    def __init__(self, model: _Optional[str] = ..., budget_limit_cents: _Optional[int] = ..., budget_used_cents: _Optional[int] = ..., token_limit: _Optional[int] = ..., tokens_used: _Optional[int] = ..., rate_limit_rpm: _Optional[int] = ..., requests_this_minute: _Optional[int] = ...) -> None: ...

class GetLimitsStatusRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ...) -> None: ...

class GetLimitsStatusResponse(_message.Message):
    __slots__ = ("integration_id", "budget_limit_cents", "budget_used_cents", "budget_percent", "token_limit_month", "tokens_used_month", "token_percent", "rate_limit_rpm", "requests_this_minute", "rate_percent", "period_start", "period_end", "limit_period", "period_time_zone", "model_limits")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_LIMIT_CENTS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_USED_CENTS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_LIMIT_MONTH_FIELD_NUMBER: _ClassVar[int]
    TOKENS_USED_MONTH_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PERCENT_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_RPM_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_THIS_MINUTE_FIELD_NUMBER: _ClassVar[int]
    RATE_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    MODEL_LIMITS_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    budget_limit_cents: int
    budget_used_cents: int
    budget_percent: float
    token_limit_month: int
    tokens_used_month: int
    token_percent: float
    rate_limit_rpm: int
    requests_this_minute: int
    rate_percent: float
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    limit_period: LimitPeriod
    period_time_zone: str
    model_limits: _containers.RepeatedCompositeFieldContainer[ModelLimitsStatus]
    def __init__(self, integration_id: _Optional[str] = ..., budget_limit_cents: _Optional[int] = ..., budget_used_cents: _Optional[int] = ..., budget_percent: _Optional[float] = ..., token_limit_month: _Optional[int] = ..., tokens_used_month: _Optional[int] = ..., token_percent: _Optional[float] = ..., rate_limit_rpm: _Optional[int] = ..., requests_this_minute: _Optional[int] = ..., rate_percent: _Optional[float] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit_period: _Optional[_Union[LimitPeriod, str]] = ..., period_time_zone: _Optional[str] = ..., model_limits: _Optional[_Iterable[_Union[ModelLimitsStatus, _Mapping]]] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "tokens", "cost_cents", "occurred_at", "event_time", "request_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    COST_CENTS_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    tokens: int
    cost_cents: int
    occurred_at: _timestamp_pb2.Timestamp
    event_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., tokens: _Optional[int] = ..., cost_cents: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class RecordUsageResponse(_message.Message):
    __slots__ = ("usage_event_id", "recorded")
    USAGE_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    usage_event_id: str
    recorded: bool
    def __init__(self, usage_event_id: _Optional[str] = ..., recorded: _Optional[bool] = ...) -> None: ...
