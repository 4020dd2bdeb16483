import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from integrations.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CircuitEvent(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIRCUIT_EVENT_UNSPECIFIED: _ClassVar[CircuitEvent]
    CIRCUIT_EVENT_OPENED: _ClassVar[CircuitEvent]
    CIRCUIT_EVENT_CLOSED: _ClassVar[CircuitEvent]
CIRCUIT_EVENT_UNSPECIFIED: CircuitEvent
CIRCUIT_EVENT_OPENED: CircuitEvent
CIRCUIT_EVENT_CLOSED: CircuitEvent

class HealthCheckResult(_message.Message):
    __slots__ = ("integration_id", "integration_name", "health_state", "message", "latency_ms", "checked_at", "check_time", "error_code", "cached", "consecutive_failures", "circuit_open", "circuit_event", "next_probe_time")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_NAME_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_OPEN_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_EVENT_FIELD_NUMBER: _ClassVar[int]
    NEXT_PROBE_TIME_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    integration_name: str
    health_state: _common_pb2.HealthState
    message: str
    latency_ms: int
    checked_at: _timestamp_pb2.Timestamp
    check_time: _timestamp_pb2.Timestamp
    error_code: str
    cached: bool
    consecutive_failures: int
    circuit_open: bool
    circuit_event: CircuitEvent
    next_probe_time: _timestamp_pb2.Timestamp
    def __init__(self, integration_id: _Optional[str] = ..., integration_name: _Optional[str] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., message: _Optional[str] = ..., latency_ms: _Optional[int] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error_code: _Optional[str] = ..., cached: _Optional[bool] = ..., consecutive_failures: _Optional[int] = ..., circuit_open: _Optional[bool] = ..., circuit_event: _Optional[_Union[CircuitEvent, str]] = ..., next_probe_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("healthy", "degraded", "unhealthy", "unknown", "total", "stale_count", "overall_health", "checked_at", "check_time")
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    UNHEALTHY_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    STALE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OVERALL_HEALTH_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    healthy: int
    degraded: int
    unhealthy: int
    unknown: int
    total: int
    stale_count: int
    overall_health: _common_pb2.HealthState
    checked_at: _timestamp_pb2.Timestamp
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, healthy: _Optional[int] = ..., degraded: _Optional[int] = ..., unhealthy: _Optional[int] = ..., unknown: _Optional[int] = ..., total: _Optional[int] = ..., stale_count: _Optional[int] = ..., overall_health: _Optional[_Union[_common_pb2.HealthState, str]] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HealthCheckRecord(_message.Message):
    __slots__ = ("id", "integration_id", "health_state", "error_code", "latency_ms", "checked_at", "check_time", "message", "circuit_event", "consecutive_failures")
    ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    CHECKED_AT_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_EVENT_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    id: str
    integration_id: str
    health_state: _common_pb2.HealthState
    error_code: str
    latency_ms: int
    checked_at: _timestamp_pb2.Timestamp
    check_time: _timestamp_pb2.Timestamp
    message: str
    circuit_event: CircuitEvent
    consecutive_failures: int
    def __init__(self, id: _Optional[str] = ..., integration_id: _Optional[str] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., error_code: _Optional[str] = ..., latency_ms: _Optional[int] = ..., checked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., circuit_event: _Optional[_Union[CircuitEvent, str]] = ..., consecutive_failures: _Optional[int] = ...) -> None: ...

class ListHealthChecksRequest(_message.Message):
    __slots__ = ("tenant_id", "integration_id", "start_time", "end_time", "health_state", "page_size", "page_token")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    integration_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    health_state: _common_pb2.HealthState
    page_size: int
    page_token: str
    def __init__(self, tenant_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., health_state: _Optional[_Union[_common_pb2.HealthState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListHealthChecksResponse(_message.Message):
    __slots__ = ("health_checks", "next_page_token", "total_size")
    HEALTH_CHECKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    health_checks: _containers.RepeatedCompositeFieldContainer[HealthCheckRecord]
    next_page_token: str
    total_size: int
    def __init__(self, health_checks: _Optional[_Iterable[_Union[HealthCheckRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...
