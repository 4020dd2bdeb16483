"""integrations.v1.SqlGatewayService on top of `engines.sql_gateway.gateway.SqlGatewayEngine`."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2

from engines.kernel.errors import InvalidArgument
from engines.sql_gateway.gateway import (
    GATEWAY_WRITABLE_FIELDS,
    TEMPLATE_WRITABLE_FIELDS,
    Gateway,
    GatewayDraft,
    GatewayFilters,
    SqlGatewayEngine,
    TemplateFilters,
)
from engines.sql_gateway.parameters import IdentityBinding, ParameterSpec, ParameterType
from engines.sql_gateway.results import QueryResult, TruncationReason
from engines.sql_gateway.templates import QueryTemplate, TemplateDraft
from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from service.call_info import Context, current_call
from service.convert import set_timestamp
from service.enums import EnumMap
from service.field_mask import requested_changes
from service.servicers.listing import list_response

__all__ = ["SqlGatewayServicer"]

PARAMETER_TYPES = EnumMap(pb.ParameterType, ParameterType, "PARAMETER_TYPE")
TRUNCATION_REASONS = EnumMap(pb.TruncationReason, TruncationReason, "TRUNCATION_REASON")
PARAMETER_BINDINGS = EnumMap(pb.ParameterBinding, IdentityBinding, "PARAMETER_BINDING")



def from_value(value: struct_pb2.Value) -> Any:
    """A JSON-like Python value; an empty Value (no kind set) is None, like null."""
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "list_value":
        return [from_value(v) for v in value.list_value.values]
    if kind == "struct_value":
        return {k: from_value(v) for k, v in value.struct_value.fields.items()}
    return getattr(value, kind)


def to_value(value: Any) -> struct_pb2.Value:
    return json_format.ParseDict(value, struct_pb2.Value())


def _spec_from_proto(index: int, spec: pb.ParameterSpec) -> ParameterSpec:
    return ParameterSpec(
        name=spec.name,
        type=PARAMETER_TYPES.to_engine(
            spec.type, f"template.parameters[{index}].type", required=True
        ),
        required=spec.required,
        default_value=from_value(spec.default_value) if spec.HasField("default_value") else None,
        description=spec.description,
        max_length=spec.max_length,
        min_value=spec.min_value if spec.HasField("min_value") else None,
        max_value=spec.max_value if spec.HasField("max_value") else None,
        allowed_values=tuple(from_value(v) for v in spec.allowed_values),
        pattern=spec.pattern,
        bound_to=PARAMETER_BINDINGS.to_engine(
            spec.bound_to, f"template.parameters[{index}].bound_to"
        ),
    )


def _spec_to_proto(spec: ParameterSpec) -> pb.ParameterSpec:
    message = pb.ParameterSpec(
        name=spec.name,
        type=PARAMETER_TYPES.to_proto(spec.type),
        required=spec.required,
        description=spec.description,
        max_length=spec.max_length,
        min_value=spec.min_value,
        max_value=spec.max_value,
        allowed_values=[to_value(v) for v in spec.allowed_values],
        pattern=spec.pattern,
    )
    if spec.bound_to is not None:
        message.bound_to = PARAMETER_BINDINGS.to_proto(spec.bound_to)
    if spec.default_value is not None:
        message.default_value.CopyFrom(to_value(spec.default_value))
    return message


def template_to_proto(template: QueryTemplate) -> pb.QueryTemplate:
    message = pb.QueryTemplate(
        id=template.id,
        tenant_id=template.tenant_id,
        name=template.name,
        description=template.description,
        sql=template.sql,
        parameters=[_spec_to_proto(spec) for spec in template.parameters],
        read_only=template.read_only,
        max_rows=template.max_rows,
        timeout_seconds=template.timeout_seconds,
        etag=template.etag,
    )
    set_timestamp(message.create_time, template.create_time)
    set_timestamp(message.update_time, template.updated)
    message.version = template.version
    message.state = (
        pb.QUERY_TEMPLATE_STATE_DISABLED if template.disabled else pb.QUERY_TEMPLATE_STATE_ACTIVE
    )
    return message


def gateway_to_proto(gateway: Gateway) -> pb.Gateway:
    message = pb.Gateway(
        id=gateway.id,
        tenant_id=gateway.tenant_id,
        name=gateway.name,
        connection_string_ref=gateway.connection_string_ref,
        allowed_template_ids=gateway.allowed_template_ids,
        max_rows=gateway.max_rows,
        max_result_bytes=gateway.max_result_bytes,
        timeout_seconds=gateway.timeout_seconds,
        read_only=gateway.read_only,
        etag=gateway.etag,
    )
    set_timestamp(message.create_time, gateway.create_time)
    set_timestamp(message.update_time, gateway.updated)
    message.template_versions.update(gateway.template_versions)
    return message


def result_to_proto(result: QueryResult) -> pb.QueryResult:
    message = pb.QueryResult(
        columns=result.columns,
        row_count=result.row_count,
        truncated=result.truncated,
        result_bytes=result.result_bytes,
        ignored_parameters=result.ignored_parameters,
    )
    for row in result.rows:
        message.rows.add().update(row)
    if result.truncation_reason is not None:
        message.truncation_reason = TRUNCATION_REASONS.to_proto(result.truncation_reason)
    message.template_version = result.template_version
    return message


def _template_field(given: pb.QueryTemplate, name: str) -> Any:
    if name == "parameters":
        return tuple(_spec_from_proto(i, spec) for i, spec in enumerate(given.parameters))
    if name == "read_only":
        return given.read_only if given.HasField("read_only") else True
    return getattr(given, name)


def _gateway_field(given: pb.Gateway, name: str) -> Any:
    if name == "allowed_template_ids":
        return tuple(given.allowed_template_ids)
    if name == "template_versions":
        return dict(given.template_versions)
    if name == "read_only":
        return given.read_only if given.HasField("read_only") else None
    return getattr(given, name)


def _template_filters(state: int) -> TemplateFilters:
    if state == pb.QUERY_TEMPLATE_STATE_UNSPECIFIED:
        return TemplateFilters()
    if state in (pb.QUERY_TEMPLATE_STATE_ACTIVE, pb.QUERY_TEMPLATE_STATE_DISABLED):
        return TemplateFilters(disabled=state == pb.QUERY_TEMPLATE_STATE_DISABLED)
    raise InvalidArgument.single("state", f"unknown enum value {state}")


class SqlGatewayServicer(sql_gateway_pb2_grpc.SqlGatewayServiceServicer):
    """Translates SqlGatewayService calls to the engine; errors are mapped by the interceptor."""

    def __init__(self, engine: SqlGatewayEngine) -> None:
        self._engine = engine

    async def CreateQueryTemplate(
        self, request: pb.CreateQueryTemplateRequest, context: Context
    ) -> pb.QueryTemplate:
        given = request.template
        draft = TemplateDraft(
            id=given.id,
            name=given.name,
            sql=given.sql,
            parameters=[_spec_from_proto(i, spec) for i, spec in enumerate(given.parameters)],
            description=given.description,
            read_only=given.read_only if given.HasField("read_only") else True,
            max_rows=given.max_rows,
            timeout_seconds=given.timeout_seconds,
        )
        created = await self._engine.create_template(
            request.tenant_id, draft, request_id=request.request_id
        )
        return template_to_proto(created)

    async def GetQueryTemplate(
        self, request: pb.GetQueryTemplateRequest, context: Context
    ) -> pb.QueryTemplate:
        return template_to_proto(
            await self._engine.get_template(
                request.tenant_id, request.template_id, request.version
            )
        )

    async def ListQueryTemplates(
        self, request: pb.ListQueryTemplatesRequest, context: Context
    ) -> pb.ListQueryTemplatesResponse:
        page = await self._engine.list_templates(
            request.tenant_id,
            request.page_size,
            request.page_token,
            _template_filters(request.state),
        )
        return list_response(pb.ListQueryTemplatesResponse, "query_templates", page, template_to_proto)

    async def CreateGateway(
        self, request: pb.CreateGatewayRequest, context: Context
    ) -> pb.Gateway:
        given = request.gateway
        draft = GatewayDraft(
            name=given.name,
            connection_string_ref=given.connection_string_ref,
            allowed_template_ids=list(given.allowed_template_ids),
            max_rows=given.max_rows,
            max_result_bytes=given.max_result_bytes,
            timeout_seconds=given.timeout_seconds,
            read_only=given.read_only if given.HasField("read_only") else None,
            template_versions=dict(given.template_versions),
        )
        created = await self._engine.create_gateway(
            request.tenant_id, draft, request_id=request.request_id
        )
        return gateway_to_proto(created)

    async def GetGateway(self, request: pb.GetGatewayRequest, context: Context) -> pb.Gateway:
        return gateway_to_proto(
            await self._engine.get_gateway(request.tenant_id, request.gateway_id)
        )

    async def ListGateways(
        self, request: pb.ListGatewaysRequest, context: Context
    ) -> pb.ListGatewaysResponse:
        page = await self._engine.list_gateways(
            request.tenant_id,
            request.page_size,
            request.page_token,
            GatewayFilters(template_id=request.template_id),
        )
        return list_response(pb.ListGatewaysResponse, "gateways", page, gateway_to_proto)

    async def ExecuteQuery(
        self, request: pb.ExecuteQueryRequest, context: Context
    ) -> pb.QueryResult:
        result = await self._engine.execute(
            request.tenant_id,
            request.gateway_id,
            request.template_id,
            {name: from_value(value) for name, value in request.parameters.items()},
            caller=current_call().caller,
        )
        return result_to_proto(result)

    async def DescribeTemplate(
        self, request: pb.DescribeTemplateRequest, context: Context
    ) -> pb.DescribeTemplateResponse:
        template, schema = await self._engine.describe_template(
            request.tenant_id, request.template_id, request.version
        )
        message = pb.DescribeTemplateResponse(
            template_id=template.id,
            name=template.name,
            description=template.description,
            read_only=template.read_only,
            etag=template.etag,
            version=template.version,
        )
        message.input_schema.update(schema)
        return message

    async def UpdateQueryTemplate(
        self, request: pb.UpdateQueryTemplateRequest, context: Context
    ) -> pb.QueryTemplate:
        changes = requested_changes(
            request, "template", writable=TEMPLATE_WRITABLE_FIELDS, value_of=_template_field
        )
        updated = await self._engine.update_template(
            request.tenant_id, request.template.id, changes, request.template.etag
        )
        return template_to_proto(updated)

    async def DisableQueryTemplate(
        self, request: pb.DisableQueryTemplateRequest, context: Context
    ) -> pb.QueryTemplate:
        return template_to_proto(
            await self._engine.set_template_disabled(
                request.tenant_id, request.template_id, True, request.etag
            )
        )

    async def EnableQueryTemplate(
        self, request: pb.EnableQueryTemplateRequest, context: Context
    ) -> pb.QueryTemplate:
        return template_to_proto(
            await self._engine.set_template_disabled(
                request.tenant_id, request.template_id, False, request.etag
            )
        )

    async def DeleteQueryTemplate(
        self, request: pb.DeleteQueryTemplateRequest, context: Context
    ) -> pb.DeleteQueryTemplateResponse:
        deleted = await self._engine.delete_template(
            request.tenant_id, request.template_id, request.etag
        )
        return pb.DeleteQueryTemplateResponse(deleted=True, template_id=deleted.id)

    async def UpdateGateway(
        self, request: pb.UpdateGatewayRequest, context: Context
    ) -> pb.Gateway:
        changes = requested_changes(
            request, "gateway", writable=GATEWAY_WRITABLE_FIELDS, value_of=_gateway_field
        )
        updated = await self._engine.update_gateway(
            request.tenant_id, request.gateway.id, changes, request.gateway.etag
        )
        return gateway_to_proto(updated)

    async def DeleteGateway(
        self, request: pb.DeleteGatewayRequest, context: Context
    ) -> pb.DeleteGatewayResponse:
        deleted = await self._engine.delete_gateway(
            request.tenant_id, request.gateway_id, request.etag
        )
        return pb.DeleteGatewayResponse(deleted=True, gateway_id=deleted.id)
