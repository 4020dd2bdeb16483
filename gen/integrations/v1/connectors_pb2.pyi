import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from integrations.v1 import data_sources_pb2 as _data_sources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectorType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTOR_TYPE_UNSPECIFIED: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_HTTP: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_SQL: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_MCP: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_VECTOR: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_FILE: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_SERVERLESS: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_STREAM: _ClassVar[ConnectorType]
    CONNECTOR_TYPE_CUSTOM: _ClassVar[ConnectorType]

class ConnectorStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTOR_STATUS_UNSPECIFIED: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_REGISTERED: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_CONFIGURING: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_READY: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_CONNECTED: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_DISCONNECTED: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_ERROR: _ClassVar[ConnectorStatus]
    CONNECTOR_STATUS_DEPRECATED: _ClassVar[ConnectorStatus]

class ConnectorCapability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTOR_CAPABILITY_UNSPECIFIED: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_READ: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_WRITE: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_QUERY: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_STREAM: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_BATCH: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_TRANSACTION: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_SEARCH: _ClassVar[ConnectorCapability]
    CONNECTOR_CAPABILITY_VECTOR_SEARCH: _ClassVar[ConnectorCapability]
CONNECTOR_TYPE_UNSPECIFIED: ConnectorType
CONNECTOR_TYPE_HTTP: ConnectorType
CONNECTOR_TYPE_SQL: ConnectorType
CONNECTOR_TYPE_MCP: ConnectorType
CONNECTOR_TYPE_VECTOR: ConnectorType
CONNECTOR_TYPE_FILE: ConnectorType
CONNECTOR_TYPE_SERVERLESS: ConnectorType
CONNECTOR_TYPE_STREAM: ConnectorType
CONNECTOR_TYPE_CUSTOM: ConnectorType
CONNECTOR_STATUS_UNSPECIFIED: ConnectorStatus
CONNECTOR_STATUS_REGISTERED: ConnectorStatus
CONNECTOR_STATUS_CONFIGURING: ConnectorStatus
CONNECTOR_STATUS_READY: ConnectorStatus
CONNECTOR_STATUS_CONNECTED: ConnectorStatus
CONNECTOR_STATUS_DISCONNECTED: ConnectorStatus
CONNECTOR_STATUS_ERROR: ConnectorStatus
CONNECTOR_STATUS_DEPRECATED: ConnectorStatus
CONNECTOR_CAPABILITY_UNSPECIFIED: ConnectorCapability
CONNECTOR_CAPABILITY_READ: ConnectorCapability
CONNECTOR_CAPABILITY_WRITE: ConnectorCapability
CONNECTOR_CAPABILITY_QUERY: ConnectorCapability
CONNECTOR_CAPABILITY_STREAM: ConnectorCapability
CONNECTOR_CAPABILITY_BATCH: ConnectorCapability
CONNECTOR_CAPABILITY_TRANSACTION: ConnectorCapability
CONNECTOR_CAPABILITY_SEARCH: ConnectorCapability
CONNECTOR_CAPABILITY_VECTOR_SEARCH: ConnectorCapability

class Connector(_message.Message):
    __slots__ = ("id", "tenant_id", "name", "connector_type", "status", "capabilities", "endpoint", "config", "metadata", "credential_ref", "create_time", "update_time", "last_used_time", "last_error", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_REF_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    name: str
    connector_type: ConnectorType
    status: ConnectorStatus
    capabilities: _containers.RepeatedScalarFieldContainer[ConnectorCapability]
    endpoint: str
    config: _struct_pb2.Struct
    metadata: _struct_pb2.Struct
    credential_ref: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    last_used_time: _timestamp_pb2.Timestamp
    last_error: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., connector_type: _Optional[_Union[ConnectorType, str]] = ..., status: _Optional[_Union[ConnectorStatus, str]] = ..., capabilities: _Optional[_Iterable[_Union[ConnectorCapability, str]]] = ..., endpoint: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., credential_ref: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListConnectorsRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "connector_type", "status")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    connector_type: ConnectorType
    status: ConnectorStatus
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., connector_type: _Optional[_Union[ConnectorType, str]] = ..., status: _Optional[_Union[ConnectorStatus, str]] = ...) -> None: ...

class ListConnectorsResponse(_message.Message):
    __slots__ = ("connectors", "next_page_token", "total_size")
    CONNECTORS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    connectors: _containers.RepeatedCompositeFieldContainer[Connector]
    next_page_token: str
    total_size: int
    def __init__(self, connectors: _Optional[_Iterable[_Union[Connector, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector_id: _Optional[str] = ...) -> None: ...

class RegisterConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector", "request_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector: Connector
    request_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector: _Optional[_Union[Connector, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector", "update_mask")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector: Connector
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tenant_id: _Optional[str] = ..., connector: _Optional[_Union[Connector, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector_id: _Optional[str] = ...) -> None: ...

class DeleteConnectorResponse(_message.Message):
    __slots__ = ("deleted", "connector_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    connector_id: str
    def __init__(self, deleted: _Optional[bool] = ..., connector_id: _Optional[str] = ...) -> None: ...

class TestConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector_id: _Optional[str] = ...) -> None: ...

class ConnectorTestResult(_message.Message):
    __slots__ = ("success", "connector_id", "latency_ms", "error", "details")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    connector_id: str
    latency_ms: int
    error: str
    details: _struct_pb2.Struct
    def __init__(self, success: _Optional[bool] = ..., connector_id: _Optional[str] = ..., latency_ms: _Optional[int] = ..., error: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetConnectorSpecRequest(_message.Message):
    __slots__ = ("connector_type", "data_source_type")
    CONNECTOR_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    connector_type: ConnectorType
    data_source_type: _data_sources_pb2.DataSourceType
    def __init__(self, connector_type: _Optional[_Union[ConnectorType, str]] = ..., data_source_type: _Optional[_Union[_data_sources_pb2.DataSourceType, str]] = ...) -> None: ...

class ConnectorSpec(_message.Message):
    __slots__ = ("json_schema", "secret_fields")
    JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELDS_FIELD_NUMBER: _ClassVar[int]
    json_schema: _struct_pb2.Struct
    secret_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, json_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., secret_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class DisconnectConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector_id: _Optional[str] = ...) -> None: ...

class ReconnectConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector_id: _Optional[str] = ...) -> None: ...

class DeprecateConnectorRequest(_message.Message):
    __slots__ = ("tenant_id", "connector_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    connector_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., connector_id: _Optional[str] = ...) -> None: ...

class ConnectorStatusChange(_message.Message):
    __slots__ = ("connector_id", "status", "message")
    CONNECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    connector_id: str
    status: ConnectorStatus
    message: str
    def __init__(self, connector_id: _Optional[str] = ..., status: _Optional[_Union[ConnectorStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...
