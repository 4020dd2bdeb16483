import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from integrations.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HealthCheckResult(_message.Message):
    __slots__ = ("integration_id", "integration_name", "health_state", "message", "latency_ms", "checked_at", "error_code", "cached")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_NAME_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    integration_name: str
    health_state: _common_pb2.HealthState
    message: str
    latency_ms: int
    checked_at: _timestamp_pb2.Timestamp
    error_code: str
    cached: bool
    def __init__(self, integration_id: _Optional[str] = ..., integration_name: _Optional[str] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., message: _Optional[str] = ..., latency_ms: _Optional[int] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_code: _Optional[str] = ..., cached: _Optional[bool] = ...) -> None: ...

class CheckHealthRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "force")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    force: bool
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class CheckAllIntegrationsRequest(_message.Message):
    __slots__ = ("tenant_id", "stale_threshold", "max_concurrency")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    STALE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    stale_threshold: _duration_pb2.Duration
    max_concurrency: int
    def __init__(self, tenant_id: _Optional[str] = ..., stale_threshold: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_concurrency: _Optional[int] = ...) -> None: ...

class GetHealthSummaryRequest(_message.Message):
    __slots__ = ("tenant_id", "stale_threshold")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    STALE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    stale_threshold: _duration_pb2.Duration
    def __init__(self, tenant_id: _Optional[str] = ..., stale_threshold: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetHealthSummaryResponse(_message.Message):
    __slots__ = ("healthy", "degraded", "unhealthy", "unknown", "total", "stale_count", "overall_health", "checked_at")
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    UNHEALTHY_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    STALE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OVERALL_HEALTH_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    healthy: int
    degraded: int
    unhealthy: int
    unknown: int
    total: int
    stale_count: int
    overall_health: _common_pb2.HealthState
    checked_at: _timestamp_pb2.Timestamp
    def __init__(self, healthy: _Optional[int] = ..., degraded: _Optional[int] = ..., unhealthy: _Optional[int] = ..., unknown: _Optional[int] = ..., total: _Optional[int] = ..., stale_count: _Optional[int] = ..., overall_health: _Optional[_Union[_common_pb2.HealthState, str]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
