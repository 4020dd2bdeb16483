import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataSourceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_SOURCE_TYPE_UNSPECIFIED: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_DATABASE: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_DOCUMENT: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_FILE: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_VECTOR: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_API: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_STREAM: _ClassVar[DataSourceType]
    DATA_SOURCE_TYPE_CUSTOM: _ClassVar[DataSourceType]

class DataSourceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_SOURCE_STATUS_UNSPECIFIED: _ClassVar[DataSourceStatus]
    DATA_SOURCE_STATUS_PENDING: _ClassVar[DataSourceStatus]
    DATA_SOURCE_STATUS_CONFIGURING: _ClassVar[DataSourceStatus]
    DATA_SOURCE_STATUS_ACTIVE: _ClassVar[DataSourceStatus]
    DATA_SOURCE_STATUS_INACTIVE: _ClassVar[DataSourceStatus]
    DATA_SOURCE_STATUS_ERROR: _ClassVar[DataSourceStatus]
    DATA_SOURCE_STATUS_DEPRECATED: _ClassVar[DataSourceStatus]
DATA_SOURCE_TYPE_UNSPECIFIED: DataSourceType
DATA_SOURCE_TYPE_DATABASE: DataSourceType
DATA_SOURCE_TYPE_DOCUMENT: DataSourceType
DATA_SOURCE_TYPE_FILE: DataSourceType
DATA_SOURCE_TYPE_VECTOR: DataSourceType
DATA_SOURCE_TYPE_API: DataSourceType
DATA_SOURCE_TYPE_STREAM: DataSourceType
DATA_SOURCE_TYPE_CUSTOM: DataSourceType
DATA_SOURCE_STATUS_UNSPECIFIED: DataSourceStatus
DATA_SOURCE_STATUS_PENDING: DataSourceStatus
DATA_SOURCE_STATUS_CONFIGURING: DataSourceStatus
DATA_SOURCE_STATUS_ACTIVE: DataSourceStatus
DATA_SOURCE_STATUS_INACTIVE: DataSourceStatus
DATA_SOURCE_STATUS_ERROR: DataSourceStatus
DATA_SOURCE_STATUS_DEPRECATED: DataSourceStatus

class DataSourceConfig(_message.Message):
    __slots__ = ("connection_string", "host", "port", "username", "password", "database", "auth_type", "api_key", "ssl_enabled", "ssl_verify", "pool_size", "pool_timeout_seconds", "max_retries", "options", "password_set", "api_key_set", "clear_password", "clear_api_key")
    CONNECTION_STRING_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DATABASE_FIELD_NUMBER: _ClassVar[int]
    AUTH_TYPE_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    SSL_ENABLED_FIELD_NUMBER: _ClassVar[int]
    SSL_VERIFY_FIELD_NUMBER: _ClassVar[int]
    POOL_SIZE_FIELD_NUMBER: _ClassVar[int]
    POOL_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_RETRIES_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_SET_FIELD_NUMBER: _ClassVar[int]
    API_KEY_SET_FIELD_NUMBER: _ClassVar[int]
    CLEAR_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CLEAR_API_KEY_FIELD_NUMBER: _ClassVar[int]
    connection_string: str
    host: str
    port: int
    username: str
    password: str
    database: str
    auth_type: str
    api_key: str
    ssl_enabled: bool
    ssl_verify: bool
    pool_size: int
    pool_timeout_seconds: int
    max_retries: int
    options: _struct_pb2.Struct
    password_set: bool
    api_key_set: bool
    clear_password: bool
    clear_api_key: bool
    def __init__(self, connection_string: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., username: _Optional[str] = ..., password: _Optional[str] = ..., database: _Optional[str] = ..., auth_type: _Optional[str] = ..., api_key: _Optional[str] = ..., ssl_enabled: _Optional[bool] = ..., ssl_verify: _Optional[bool] = ..., pool_size: _Optional[int] = ..., pool_timeout_seconds: _Optional[int] = ..., max_retries: _Optional[int] = ..., options: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., password_set: _Optional[bool] = ..., api_key_set: _Optional[bool] = ..., clear_password: _Optional[bool] = ..., clear_api_key: _Optional[bool] = ...) -> None: ...

class DataSource(_message.Message):
    __slots__ = ("id", "tenant_id", "name", "source_type", "status", "config", "description", "tags", "metadata", "owner_id", "access_roles", "last_connected_time", "last_error", "connection_count", "error_count", "create_time", "update_time", "etag", "last_error_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCESS_ROLES_FIELD_NUMBER: _ClassVar[int]
    LAST_CONNECTED_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    name: str
    source_type: DataSourceType
    status: DataSourceStatus
    config: DataSourceConfig
    description: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    metadata: _struct_pb2.Struct
    owner_id: str
    access_roles: _containers.RepeatedScalarFieldContainer[str]
    last_connected_time: _timestamp_pb2.Timestamp
    last_error: str
    connection_count: int
    error_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    last_error_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., source_type: _Optional[_Union[DataSourceType, str]] = ..., status: _Optional[_Union[DataSourceStatus, str]] = ..., config: _Optional[_Union[DataSourceConfig, _Mapping]] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., owner_id: _Optional[str] = ..., access_roles: _Optional[_Iterable[str]] = ..., last_connected_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., connection_count: _Optional[int] = ..., error_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., last_error_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RegisterDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source", "request_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source: DataSource
    request_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source: _Optional[_Union[DataSource, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListDataSourcesRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "source_type", "status", "tag")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    source_type: DataSourceType
    status: DataSourceStatus
    tag: str
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., source_type: _Optional[_Union[DataSourceType, str]] = ..., status: _Optional[_Union[DataSourceStatus, str]] = ..., tag: _Optional[str] = ...) -> None: ...

class ListDataSourcesResponse(_message.Message):
    __slots__ = ("data_sources", "next_page_token", "total_size")
    DATA_SOURCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    data_sources: _containers.RepeatedCompositeFieldContainer[DataSource]
    next_page_token: str
    total_size: int
    def __init__(self, data_sources: _Optional[_Iterable[_Union[DataSource, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class UpdateDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source", "update_mask")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source: DataSource
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tenant_id: _Optional[str] = ..., data_source: _Optional[_Union[DataSource, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class DeleteDataSourceResponse(_message.Message):
    __slots__ = ("deleted", "data_source_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    data_source_id: str
    def __init__(self, deleted: _Optional[bool] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class TestDataSourceConnectionRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class TestDataSourceConnectionResponse(_message.Message):
    __slots__ = ("success", "message", "latency_ms", "details")
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    message: str
    latency_ms: int
    details: _struct_pb2.Struct
    def __init__(self, success: _Optional[bool] = ..., message: _Optional[str] = ..., latency_ms: _Optional[int] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class DiscoverDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id", "max_tables")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_TABLES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    max_tables: int
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ..., max_tables: _Optional[int] = ...) -> None: ...

class DiscoveredColumn(_message.Message):
    __slots__ = ("name", "data_type", "nullable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    NULLABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    data_type: str
    nullable: bool
    def __init__(self, name: _Optional[str] = ..., data_type: _Optional[str] = ..., nullable: _Optional[bool] = ...) -> None: ...

class DiscoveredTable(_message.Message):
    __slots__ = ("schema", "name", "kind", "columns")
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    schema: str
    name: str
    kind: str
    columns: _containers.RepeatedCompositeFieldContainer[DiscoveredColumn]
    def __init__(self, schema: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[DiscoveredColumn, _Mapping]]] = ...) -> None: ...

class DiscoverDataSourceResponse(_message.Message):
    __slots__ = ("success", "message", "latency_ms", "tables", "truncated", "http", "details")
    class HttpEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    HTTP_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    success: bool
    message: str
    latency_ms: int
    tables: _containers.RepeatedCompositeFieldContainer[DiscoveredTable]
    truncated: bool
    http: _containers.ScalarMap[str, str]
    details: _struct_pb2.Struct
    def __init__(self, success: _Optional[bool] = ..., message: _Optional[str] = ..., latency_ms: _Optional[int] = ..., tables: _Optional[_Iterable[_Union[DiscoveredTable, _Mapping]]] = ..., truncated: _Optional[bool] = ..., http: _Optional[_Mapping[str, str]] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ActivateDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class ActivateDataSourceResponse(_message.Message):
    __slots__ = ("data_source_id", "status", "message")
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    data_source_id: str
    status: DataSourceStatus
    message: str
    def __init__(self, data_source_id: _Optional[str] = ..., status: _Optional[_Union[DataSourceStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...

class DeactivateDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class DeactivateDataSourceResponse(_message.Message):
    __slots__ = ("data_source_id", "status", "message")
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    data_source_id: str
    status: DataSourceStatus
    message: str
    def __init__(self, data_source_id: _Optional[str] = ..., status: _Optional[_Union[DataSourceStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...

class DeprecateDataSourceRequest(_message.Message):
    __slots__ = ("tenant_id", "data_source_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    data_source_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class DeprecateDataSourceResponse(_message.Message):
    __slots__ = ("data_source_id", "status", "message")
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    data_source_id: str
    status: DataSourceStatus
    message: str
    def __init__(self, data_source_id: _Optional[str] = ..., status: _Optional[_Union[DataSourceStatus, str]] = ..., message: _Optional[str] = ...) -> None: ...

class GetDataSourceStatisticsRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class GetDataSourceStatisticsResponse(_message.Message):
    __slots__ = ("total_sources", "active_sources", "inactive_sources", "error_sources", "pending_sources", "sources_by_type", "total_connections", "total_errors", "configuring_sources", "deprecated_sources")
    class SourcesByTypeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TOTAL_SOURCES_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    ERROR_SOURCES_FIELD_NUMBER: _ClassVar[int]
    PENDING_SOURCES_FIELD_NUMBER: _ClassVar[int]
    SOURCES_BY_TYPE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_ERRORS_FIELD_NUMBER: _ClassVar[int]
    CONFIGURING_SOURCES_FIELD_NUMBER: _ClassVar[int]
    DEPRECATED_SOURCES_FIELD_NUMBER: _ClassVar[int]
    total_sources: int
    active_sources: int
    inactive_sources: int
    error_sources: int
    pending_sources: int
    sources_by_type: _containers.ScalarMap[str, int]
    total_connections: int
    total_errors: int
    configuring_sources: int
    deprecated_sources: int
    def __init__(self, total_sources: _Optional[int] = ..., active_sources: _Optional[int] = ..., inactive_sources: _Optional[int] = ..., error_sources: _Optional[int] = ..., pending_sources: _Optional[int] = ..., sources_by_type: _Optional[_Mapping[str, int]] = ..., total_connections: _Optional[int] = ..., total_errors: _Optional[int] = ..., configuring_sources: _Optional[int] = ..., deprecated_sources: _Optional[int] = ...) -> None: ...
