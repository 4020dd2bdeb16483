import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PreventionCandidate(_message.Message):
    __slots__ = ("policy_id", "pattern_id", "tenant_id", "blocked_incident_id", "original_incident_id", "signature_match_confidence", "policy_mode", "pattern_signature", "request_signature", "incident_created", "is_simulated")
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_MATCH_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    POLICY_MODE_FIELD_NUMBER: _ClassVar[int]
    PATTERN_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_CREATED_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    policy_id: str
    pattern_id: str
    tenant_id: str
    blocked_incident_id: str
    original_incident_id: str
    signature_match_confidence: float
    policy_mode: str
    pattern_signature: _struct_pb2.Struct
    request_signature: _struct_pb2.Struct
    incident_created: bool
    is_simulated: bool
    def __init__(self, policy_id: _Optional[str] = ..., pattern_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., blocked_incident_id: _Optional[str] = ..., original_incident_id: _Optional[str] = ..., signature_match_confidence: _Optional[float] = ..., policy_mode: _Optional[str] = ..., pattern_signature: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., request_signature: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., incident_created: _Optional[bool] = ..., is_simulated: _Optional[bool] = ...) -> None: ...

class PreventionRecord(_message.Message):
    __slots__ = ("id", "tenant_id", "policy_id", "pattern_id", "blocked_incident_id", "original_incident_id", "signature_match_confidence", "policy_mode", "pattern_signature", "request_signature", "incident_created", "is_simulated", "create_time", "contract_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_INCIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_MATCH_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    POLICY_MODE_FIELD_NUMBER: _ClassVar[int]
    PATTERN_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    INCIDENT_CREATED_FIELD_NUMBER: _ClassVar[int]
    IS_SIMULATED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    policy_id: str
    pattern_id: str
    blocked_incident_id: str
    original_incident_id: str
    signature_match_confidence: float
    policy_mode: str
    pattern_signature: _struct_pb2.Struct
    request_signature: _struct_pb2.Struct
    incident_created: bool
    is_simulated: bool
    create_time: _timestamp_pb2.Timestamp
    contract_version: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., policy_id: _Optional[str] = ..., pattern_id: _Optional[str] = ..., blocked_incident_id: _Optional[str] = ..., original_incident_id: _Optional[str] = ..., signature_match_confidence: _Optional[float] = ..., policy_mode: _Optional[str] = ..., pattern_signature: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., request_signature: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., incident_created: _Optional[bool] = ..., is_simulated: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contract_version: _Optional[str] = ...) -> None: ...

class ValidatePreventionCandidateRequest(_message.Message):
    __slots__ = ("candidate",)
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    candidate: PreventionCandidate
    def __init__(self, candidate: _Optional[_Union[PreventionCandidate, _Mapping]] = ...) -> None: ...

class ValidatePreventionCandidateResponse(_message.Message):
    __slots__ = ("valid", "rule", "details", "contract_version")
    VALID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_VERSION_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    rule: str
    details: str
    contract_version: str
    def __init__(self, valid: _Optional[bool] = ..., rule: _Optional[str] = ..., details: _Optional[str] = ..., contract_version: _Optional[str] = ...) -> None: ...

class CreatePreventionRecordRequest(_message.Message):
    __slots__ = ("candidate", "request_id")
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    candidate: PreventionCandidate
    request_id: str
    def __init__(self, candidate: _Optional[_Union[PreventionCandidate, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetPreventionRecordRequest(_message.Message):
    __slots__ = ("tenant_id", "record_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    record_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., record_id: _Optional[str] = ...) -> None: ...

class ListPreventionRecordsRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "policy_id", "pattern_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    policy_id: str
    pattern_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., policy_id: _Optional[str] = ..., pattern_id: _Optional[str] = ...) -> None: ...

class ListPreventionRecordsResponse(_message.Message):
    __slots__ = ("prevention_records", "next_page_token", "total_size")
    PREVENTION_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    prevention_records: _containers.RepeatedCompositeFieldContainer[PreventionRecord]
    next_page_token: str
    total_size: int
    def __init__(self, prevention_records: _Optional[_Iterable[_Union[PreventionRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class ValidatePreventionForGraduationRequest(_message.Message):
    __slots__ = ("tenant_id", "record_id", "policy_activated_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ACTIVATED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    record_id: str
    policy_activated_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., record_id: _Optional[str] = ..., policy_activated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ValidatePreventionForGraduationResponse(_message.Message):
    __slots__ = ("counts", "reason")
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    counts: bool
    reason: str
    def __init__(self, counts: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class EvaluateGraduationRequest(_message.Message):
    __slots__ = ("tenant_id", "policy_id", "policy_activated_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_ACTIVATED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    policy_id: str
    policy_activated_at: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., policy_id: _Optional[str] = ..., policy_activated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EvaluateGraduationResponse(_message.Message):
    __slots__ = ("qualifying_records", "simulated_records", "before_activation_records", "total_records")
    QUALIFYING_RECORDS_FIELD_NUMBER: _ClassVar[int]
    SIMULATED_RECORDS_FIELD_NUMBER: _ClassVar[int]
    BEFORE_ACTIVATION_RECORDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RECORDS_FIELD_NUMBER: _ClassVar[int]
    qualifying_records: int
    simulated_records: int
    before_activation_records: int
    total_records: int
    def __init__(self, qualifying_records: _Optional[int] = ..., simulated_records: _Optional[int] = ..., before_activation_records: _Optional[int] = ..., total_records: _Optional[int] = ...) -> None: ...

class GetPreventionContractRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PreventionContractRule(_message.Message):
    __slots__ = ("rule", "description")
    RULE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    rule: str
    description: str
    def __init__(self, rule: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class GetPreventionContractResponse(_message.Message):
    __slots__ = ("version", "frozen_at", "rules", "min_signature_confidence")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FROZEN_AT_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    MIN_SIGNATURE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    version: str
    frozen_at: _timestamp_pb2.Timestamp
    rules: _containers.RepeatedCompositeFieldContainer[PreventionContractRule]
    min_signature_confidence: float
    def __init__(self, version: _Optional[str] = ..., frozen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[PreventionContractRule, _Mapping]]] = ..., min_signature_confidence: _Optional[float] = ...) -> None: ...
