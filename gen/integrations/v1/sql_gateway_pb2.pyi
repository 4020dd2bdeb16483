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

class ParameterBinding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARAMETER_BINDING_UNSPECIFIED: _ClassVar[ParameterBinding]
    PARAMETER_BINDING_TENANT_ID: _ClassVar[ParameterBinding]
    PARAMETER_BINDING_CALLER_NAME: _ClassVar[ParameterBinding]

class ParameterType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PARAMETER_TYPE_UNSPECIFIED: _ClassVar[ParameterType]
    PARAMETER_TYPE_STRING: _ClassVar[ParameterType]
    PARAMETER_TYPE_INTEGER: _ClassVar[ParameterType]
    PARAMETER_TYPE_FLOAT: _ClassVar[ParameterType]
    PARAMETER_TYPE_BOOLEAN: _ClassVar[ParameterType]
    PARAMETER_TYPE_DATE: _ClassVar[ParameterType]
    PARAMETER_TYPE_TIMESTAMP: _ClassVar[ParameterType]
    PARAMETER_TYPE_UUID: _ClassVar[ParameterType]
    PARAMETER_TYPE_LIST_STRING: _ClassVar[ParameterType]
    PARAMETER_TYPE_LIST_INT: _ClassVar[ParameterType]

class TruncationReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRUNCATION_REASON_UNSPECIFIED: _ClassVar[TruncationReason]
    TRUNCATION_REASON_MAX_ROWS: _ClassVar[TruncationReason]
    TRUNCATION_REASON_MAX_RESULT_BYTES: _ClassVar[TruncationReason]

class QueryTemplateState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUERY_TEMPLATE_STATE_UNSPECIFIED: _ClassVar[QueryTemplateState]
    QUERY_TEMPLATE_STATE_ACTIVE: _ClassVar[QueryTemplateState]
    QUERY_TEMPLATE_STATE_DISABLED: _ClassVar[QueryTemplateState]
PARAMETER_BINDING_UNSPECIFIED: ParameterBinding
PARAMETER_BINDING_TENANT_ID: ParameterBinding
PARAMETER_BINDING_CALLER_NAME: ParameterBinding
PARAMETER_TYPE_UNSPECIFIED: ParameterType
PARAMETER_TYPE_STRING: ParameterType
PARAMETER_TYPE_INTEGER: ParameterType
PARAMETER_TYPE_FLOAT: ParameterType
PARAMETER_TYPE_BOOLEAN: ParameterType
PARAMETER_TYPE_DATE: ParameterType
PARAMETER_TYPE_TIMESTAMP: ParameterType
PARAMETER_TYPE_UUID: ParameterType
PARAMETER_TYPE_LIST_STRING: ParameterType
PARAMETER_TYPE_LIST_INT: ParameterType
TRUNCATION_REASON_UNSPECIFIED: TruncationReason
TRUNCATION_REASON_MAX_ROWS: TruncationReason
TRUNCATION_REASON_MAX_RESULT_BYTES: TruncationReason
QUERY_TEMPLATE_STATE_UNSPECIFIED: QueryTemplateState
QUERY_TEMPLATE_STATE_ACTIVE: QueryTemplateState
QUERY_TEMPLATE_STATE_DISABLED: QueryTemplateState

class ParameterSpec(_message.Message):
    __slots__ = ("name", "type", "required", "default_value", "description", "max_length", "min_value", "max_value", "allowed_values", "pattern", "bound_to")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MIN_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_VALUE_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_VALUES_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    BOUND_TO_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: ParameterType
    required: bool
    default_value: _struct_pb2.Value
    description: str
    max_length: int
    min_value: float
    max_value: float
    allowed_values: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    pattern: str
    bound_to: ParameterBinding
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[ParameterType, str]] = ..., required: _Optional[bool] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., description: _Optional[str] = ..., max_length: _Optional[int] = ..., min_value: _Optional[float] = ..., max_value: _Optional[float] = ..., allowed_values: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., pattern: _Optional[str] = ..., bound_to: _Optional[_Union[ParameterBinding, str]] = ...) -> None: ...

class QueryTemplate(_message.Message):
    __slots__ = ("id", "tenant_id", "name", "description", "sql", "parameters", "read_only", "max_rows", "timeout_seconds", "create_time", "update_time", "etag", "version", "state")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    name: str
    description: str
    sql: str
    parameters: _containers.RepeatedCompositeFieldContainer[ParameterSpec]
    read_only: bool
    max_rows: int
    timeout_seconds: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    version: int
    state: QueryTemplateState
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., sql: _Optional[str] = ..., parameters: _Optional[_Iterable[_Union[ParameterSpec, _Mapping]]] = ..., read_only: _Optional[bool] = ..., max_rows: _Optional[int] = ..., timeout_seconds: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., version: _Optional[int] = ..., state: _Optional[_Union[QueryTemplateState, str]] = ...) -> None: ...

class Gateway(_message.Message):
    __slots__ = ("id", "tenant_id", "name", "connection_string_ref", "allowed_template_ids", "max_rows", "max_result_bytes", "timeout_seconds", "read_only", "create_time", "update_time", "etag", "template_versions")
    class TemplateVersionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_STRING_REF_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_TEMPLATE_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESULT_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    name: str
    connection_string_ref: str
    allowed_template_ids: _containers.RepeatedScalarFieldContainer[str]
    max_rows: int
    max_result_bytes: int
    timeout_seconds: int
    read_only: bool
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    template_versions: _containers.ScalarMap[str, int]
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., connection_string_ref: _Optional[str] = ..., allowed_template_ids: _Optional[_Iterable[str]] = ..., max_rows: _Optional[int] = ..., max_result_bytes: _Optional[int] = ..., timeout_seconds: _Optional[int] = ..., read_only: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., template_versions: _Optional[_Mapping[str, int]] = ...) -> None: ...

class CreateQueryTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template", "request_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template: QueryTemplate
    request_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., template: _Optional[_Union[QueryTemplate, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetQueryTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template_id", "version")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template_id: str
    version: int
    def __init__(self, tenant_id: _Optional[str] = ..., template_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class UpdateQueryTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template", "update_mask")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template: QueryTemplate
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tenant_id: _Optional[str] = ..., template: _Optional[_Union[QueryTemplate, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DisableQueryTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template_id", "etag")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template_id: str
    etag: str
    def __init__(self, tenant_id: _Optional[str] = ..., template_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class EnableQueryTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template_id", "etag")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template_id: str
    etag: str
    def __init__(self, tenant_id: _Optional[str] = ..., template_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteQueryTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template_id", "etag")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template_id: str
    etag: str
    def __init__(self, tenant_id: _Optional[str] = ..., template_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteQueryTemplateResponse(_message.Message):
    __slots__ = ("deleted", "template_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    template_id: str
    def __init__(self, deleted: _Optional[bool] = ..., template_id: _Optional[str] = ...) -> None: ...

class ListQueryTemplatesRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "state")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    state: QueryTemplateState
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[QueryTemplateState, str]] = ...) -> None: ...

class ListQueryTemplatesResponse(_message.Message):
    __slots__ = ("query_templates", "next_page_token", "total_size")
    QUERY_TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    query_templates: _containers.RepeatedCompositeFieldContainer[QueryTemplate]
    next_page_token: str
    total_size: int
    def __init__(self, query_templates: _Optional[_Iterable[_Union[QueryTemplate, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class CreateGatewayRequest(_message.Message):
    __slots__ = ("tenant_id", "gateway", "request_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    gateway: Gateway
    request_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., gateway: _Optional[_Union[Gateway, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetGatewayRequest(_message.Message):
    __slots__ = ("tenant_id", "gateway_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    gateway_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., gateway_id: _Optional[str] = ...) -> None: ...

class ListGatewaysRequest(_message.Message):
    __slots__ = ("tenant_id", "page_size", "page_token", "template_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    page_size: int
    page_token: str
    template_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., template_id: _Optional[str] = ...) -> None: ...

class UpdateGatewayRequest(_message.Message):
    __slots__ = ("tenant_id", "gateway", "update_mask")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    gateway: Gateway
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, tenant_id: _Optional[str] = ..., gateway: _Optional[_Union[Gateway, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteGatewayRequest(_message.Message):
    __slots__ = ("tenant_id", "gateway_id", "etag")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    gateway_id: str
    etag: str
    def __init__(self, tenant_id: _Optional[str] = ..., gateway_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteGatewayResponse(_message.Message):
    __slots__ = ("deleted", "gateway_id")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    gateway_id: str
    def __init__(self, deleted: _Optional[bool] = ..., gateway_id: _Optional[str] = ...) -> None: ...

class ListGatewaysResponse(_message.Message):
    __slots__ = ("gateways", "next_page_token", "total_size")
    GATEWAYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    gateways: _containers.RepeatedCompositeFieldContainer[Gateway]
    next_page_token: str
    total_size: int
    def __init__(self, gateways: _Optional[_Iterable[_Union[Gateway, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class ExecuteQueryRequest(_message.Message):
    __slots__ = ("tenant_id", "gateway_id", "template_id", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    gateway_id: str
    template_id: str
    parameters: _containers.MessageMap[str, _struct_pb2.Value]
    def __init__(self, tenant_id: _Optional[str] = ..., gateway_id: _Optional[str] = ..., template_id: _Optional[str] = ..., parameters: _Optional[_Mapping[str, _struct_pb2.Value]] = ...) -> None: ...

class DescribeTemplateRequest(_message.Message):
    __slots__ = ("tenant_id", "template_id", "version")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    template_id: str
    version: int
    def __init__(self, tenant_id: _Optional[str] = ..., template_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class DescribeTemplateResponse(_message.Message):
    __slots__ = ("template_id", "name", "description", "read_only", "input_schema", "etag", "version")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    INPUT_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    name: str
    description: str
    read_only: bool
    input_schema: _struct_pb2.Struct
    etag: str
    version: int
    def __init__(self, template_id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., read_only: _Optional[bool] = ..., input_schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., etag: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class QueryResult(_message.Message):
    __slots__ = ("columns", "rows", "row_count", "truncated", "result_bytes", "ignored_parameters", "truncation_reason", "template_version")
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    RESULT_BYTES_FIELD_NUMBER: _ClassVar[int]
    IGNORED_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATION_REASON_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    row_count: int
    truncated: bool
    result_bytes: int
    ignored_parameters: _containers.RepeatedScalarFieldContainer[str]
    truncation_reason: TruncationReason
    template_version: int
    def __init__(self, columns: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., row_count: _Optional[int] = ..., truncated: _Optional[bool] = ..., result_bytes: _Optional[int] = ..., ignored_parameters: _Optional[_Iterable[str]] = ..., truncation_reason: _Optional[_Union[TruncationReason, str]] = ..., template_version: _Optional[int] = ...) -> None: ...
