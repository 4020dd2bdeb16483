import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccessKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_KIND_UNSPECIFIED: _ClassVar[AccessKind]
    ACCESS_KIND_REVEAL: _ClassVar[AccessKind]
    ACCESS_KIND_USE: _ClassVar[AccessKind]
    ACCESS_KIND_CREATE: _ClassVar[AccessKind]
    ACCESS_KIND_ROTATE: _ClassVar[AccessKind]
    ACCESS_KIND_UPDATE: _ClassVar[AccessKind]
    ACCESS_KIND_DELETE: _ClassVar[AccessKind]

class AccessOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_OUTCOME_UNSPECIFIED: _ClassVar[AccessOutcome]
    ACCESS_OUTCOME_ALLOWED: _ClassVar[AccessOutcome]
    ACCESS_OUTCOME_DENIED: _ClassVar[AccessOutcome]
    ACCESS_OUTCOME_FAILED: _ClassVar[AccessOutcome]
ACCESS_KIND_UNSPECIFIED: AccessKind
ACCESS_KIND_REVEAL: AccessKind
ACCESS_KIND_USE: AccessKind
ACCESS_KIND_CREATE: AccessKind
ACCESS_KIND_ROTATE: AccessKind
ACCESS_KIND_UPDATE: AccessKind
ACCESS_KIND_DELETE: AccessKind
ACCESS_OUTCOME_UNSPECIFIED: AccessOutcome
ACCESS_OUTCOME_ALLOWED: AccessOutcome
ACCESS_OUTCOME_DENIED: AccessOutcome
ACCESS_OUTCOME_FAILED: AccessOutcome

class Credential(_message.Message):
    __slots__ = ("id", "tenant_id", "name", "credential_ref", "version", "expire_time", "metadata", "create_time", "update_time", "etag", "key_version", "created_by", "allowed_destinations", "rotation_interval", "rotation_due_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    ROTATION_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    ROTATION_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    name: str
    credential_ref: str
    version: int
    expire_time: _timestamp_pb2.Timestamp
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    key_version: int
    created_by: str
    allowed_destinations: _containers.RepeatedScalarFieldContainer[str]
    rotation_interval: _duration_pb2.Duration
    rotation_due_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., credential_ref: _Optional[str] = ..., version: _Optional[int] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., key_version: _Optional[int] = ..., created_by: _Optional[str] = ..., allowed_destinations: _Optional[_Iterable[str]] = ..., rotation_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rotation_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EncryptCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "plaintext", "context", "allowed_destinations")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    plaintext: str
    context: _containers.ScalarMap[str, str]
    allowed_destinations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., plaintext: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ..., allowed_destinations: _Optional[_Iterable[str]] = ...) -> None: ...

class EncryptCredentialResponse(_message.Message):
    __slots__ = ("credential_ref", "key_version")
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    credential_ref: str
    key_version: int
    def __init__(self, credential_ref: _Optional[str] = ..., key_version: _Optional[int] = ...) -> None: ...

class CreateCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "name", "secret", "expire_time", "metadata", "request_id", "allowed_destinations", "provider", "access_reason", "rotation_interval")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    ROTATION_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    secret: str
    expire_time: _timestamp_pb2.Timestamp
    metadata: _containers.ScalarMap[str, str]
    request_id: str
    allowed_destinations: _containers.RepeatedScalarFieldContainer[str]
    provider: str
    access_reason: str
    rotation_interval: _duration_pb2.Duration
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., secret: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ..., allowed_destinations: _Optional[_Iterable[str]] = ..., provider: _Optional[str] = ..., access_reason: _Optional[str] = ..., rotation_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UpdateCredentialDestinationsRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_id", "allowed_destinations", "access_reason")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_id: str
    allowed_destinations: _containers.RepeatedScalarFieldContainer[str]
    access_reason: str
    def __init__(self, tenant_id: _Optional[str] = ..., credential_id: _Optional[str] = ..., allowed_destinations: _Optional[_Iterable[str]] = ..., access_reason: _Optional[str] = ...) -> None: ...

class UseCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_ref", "destination", "destination_in_secret", "rpc", "context", "access_reason")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_IN_SECRET_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_ref: str
    destination: str
    destination_in_secret: bool
    rpc: str
    context: _containers.ScalarMap[str, str]
    access_reason: str
    def __init__(self, tenant_id: _Optional[str] = ..., credential_ref: _Optional[str] = ..., destination: _Optional[str] = ..., destination_in_secret: _Optional[bool] = ..., rpc: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ..., access_reason: _Optional[str] = ...) -> None: ...

class GetCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_ref", "context", "access_reason")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_ref: str
    context: _containers.ScalarMap[str, str]
    access_reason: str
    def __init__(self, tenant_id: _Optional[str] = ..., credential_ref: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ..., access_reason: _Optional[str] = ...) -> None: ...

class GetCredentialResponse(_message.Message):
    __slots__ = ("value", "expire_time", "version")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    value: str
    expire_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, value: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class LookupCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_ref")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_ref: str
    def __init__(self, tenant_id: _Optional[str] = ..., credential_ref: _Optional[str] = ...) -> None: ...

class ListCredentialsRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "expires_within", "rotation_due")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_WITHIN_FIELD_NUMBER: _ClassVar[int]
    ROTATION_DUE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    expires_within: _duration_pb2.Duration
    rotation_due: bool
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., expires_within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rotation_due: _Optional[bool] = ...) -> None: ...

class RewrapCredentialsRequest(_message.Message):
    __slots__ = ("batch_size",)
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    batch_size: int
    def __init__(self, batch_size: _Optional[int] = ...) -> None: ...

class RewrapCredentialsProgress(_message.Message):
    __slots__ = ("rewrapped", "failed", "key_version")
    REWRAPPED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    rewrapped: int
    failed: int
    key_version: int
    def __init__(self, rewrapped: _Optional[int] = ..., failed: _Optional[int] = ..., key_version: _Optional[int] = ...) -> None: ...

class RewrapCredentialRefRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_ref", "context")
    class ContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_ref: str
    context: _containers.ScalarMap[str, str]
    def __init__(self, tenant_id: _Optional[str] = ..., credential_ref: _Optional[str] = ..., context: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RewrapCredentialRefResponse(_message.Message):
    __slots__ = ("credential_ref", "key_version")
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    credential_ref: str
    key_version: int
    def __init__(self, credential_ref: _Optional[str] = ..., key_version: _Optional[int] = ...) -> None: ...

class GetExpiringCredentialsRequest(_message.Message):
    __slots__ = ("tenant_id", "within")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    WITHIN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    within: _duration_pb2.Duration
    def __init__(self, tenant_id: _Optional[str] = ..., within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetExpiringCredentialsResponse(_message.Message):
    __slots__ = ("expired_count", "expiring_count", "rotation_due_count", "next_expire_time", "next_rotation_due_time", "check_time", "within")
    EXPIRED_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_COUNT_FIELD_NUMBER: _ClassVar[int]
    ROTATION_DUE_COUNT_FIELD_NUMBER: _ClassVar[int]
    NEXT_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_ROTATION_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    WITHIN_FIELD_NUMBER: _ClassVar[int]
    expired_count: int
    expiring_count: int
    rotation_due_count: int
    next_expire_time: _timestamp_pb2.Timestamp
    next_rotation_due_time: _timestamp_pb2.Timestamp
    check_time: _timestamp_pb2.Timestamp
    within: _duration_pb2.Duration
    def __init__(self, expired_count: _Optional[int] = ..., expiring_count: _Optional[int] = ..., rotation_due_count: _Optional[int] = ..., next_expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_rotation_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., within: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListCredentialsResponse(_message.Message):
    __slots__ = ("credentials", "next_page_token", "total_size")
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    credentials: _containers.RepeatedCompositeFieldContainer[Credential]
    next_page_token: str
    total_size: int
    def __init__(self, credentials: _Optional[_Iterable[_Union[Credential, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class RotateCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_id", "secret", "expire_time", "etag", "access_reason", "rotation_interval")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    ROTATION_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_id: str
    secret: str
    expire_time: _timestamp_pb2.Timestamp
    etag: str
    access_reason: str
    rotation_interval: _duration_pb2.Duration
    def __init__(self, tenant_id: _Optional[str] = ..., credential_id: _Optional[str] = ..., secret: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., access_reason: _Optional[str] = ..., rotation_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class DeleteCredentialRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_id", "access_reason")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_id: str
    access_reason: str
    def __init__(self, tenant_id: _Optional[str] = ..., credential_id: _Optional[str] = ..., access_reason: _Optional[str] = ...) -> None: ...

class DeleteCredentialResponse(_message.Message):
    __slots__ = ("deleted", "credential_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    credential_id: str
    def __init__(self, deleted: _Optional[bool] = ..., credential_id: _Optional[str] = ...) -> None: ...

class ListCredentialAccessEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "credential_id", "page_size", "page_token")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    credential_id: str
    page_size: int
    page_token: str
    def __init__(self, tenant_id: _Optional[str] = ..., credential_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCredentialAccessEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token", "total_size")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[CredentialAccessEvent]
    next_page_token: str
    total_size: int
    def __init__(self, events: _Optional[_Iterable[_Union[CredentialAccessEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CredentialAccessEvent(_message.Message):
    __slots__ = ("id", "tenant_id", "credential_ref", "credential_id", "caller", "allowed", "access_reason", "time", "outcome", "detail", "requester_tenant_id", "kind", "destination", "rpc")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_ID_FIELD_NUMBER: _ClassVar[int]
    CALLER_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REASON_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    RPC_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    credential_ref: str
    credential_id: str
    caller: str
    allowed: bool
    access_reason: str
    time: _timestamp_pb2.Timestamp
    outcome: AccessOutcome
    detail: str
    requester_tenant_id: str
    kind: AccessKind
    destination: str
    rpc: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., credential_ref: _Optional[str] = ..., credential_id: _Optional[str] = ..., caller: _Optional[str] = ..., allowed: _Optional[bool] = ..., access_reason: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[AccessOutcome, str]] = ..., detail: _Optional[str] = ..., requester_tenant_id: _Optional[str] = ..., kind: _Optional[_Union[AccessKind, str]] = ..., destination: _Optional[str] = ..., rpc: _Optional[str] = ...) -> None: ...
