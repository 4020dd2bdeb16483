"""integrations.v1.ConnectorsService on top of `engines.connectors.connector.ConnectorsEngine`."""

from __future__ import annotations

from typing import Any

from engines.connectors.connector import (
    WRITABLE_FIELDS,
    Connector,
    ConnectorCapability,
    ConnectorDraft,
    ConnectorFilters,
    ConnectorsEngine,
    ConnectorStatus,
    ConnectorType,
)
from engines.connectors.specs import connector_spec, data_source_spec, secret_fields
from engines.kernel.errors import InvalidArgument
from integrations.v1 import connectors_pb2, connectors_pb2_grpc
from service.call_info import Context
from service.convert import from_struct, set_timestamp, to_struct
from service.enums import EnumMap
from service.field_mask import requested_changes
from service.servicers.data_sources.servicer import TYPES as SOURCE_TYPES
from service.servicers.listing import list_response

__all__ = ["ConnectorsServicer", "connector_to_proto"]

TYPES = EnumMap(connectors_pb2.ConnectorType, ConnectorType, "CONNECTOR_TYPE")
STATUSES = EnumMap(connectors_pb2.ConnectorStatus, ConnectorStatus, "CONNECTOR_STATUS")
CAPABILITIES = EnumMap(
    connectors_pb2.ConnectorCapability, ConnectorCapability, "CONNECTOR_CAPABILITY"
)



def connector_to_proto(connector: Connector) -> connectors_pb2.Connector:
    message = connectors_pb2.Connector(
        id=connector.id,
        tenant_id=connector.tenant_id,
        name=connector.name,
        connector_type=TYPES.to_proto(connector.connector_type),
        status=STATUSES.to_proto(connector.status),
        capabilities=[CAPABILITIES.to_proto(c) for c in connector.capabilities],
        endpoint=connector.endpoint,
        config=to_struct(connector.config),
        metadata=to_struct(connector.metadata),
        credential_ref=connector.credential_ref,
        last_error=connector.last_error,
        etag=connector.etag,
    )
    set_timestamp(message.create_time, connector.create_time)
    set_timestamp(message.update_time, connector.update_time)
    set_timestamp(message.last_used_time, connector.last_used_time)
    return message


def _field_value(message: connectors_pb2.Connector, name: str) -> Any:
    if name in ("config", "metadata"):
        return from_struct(getattr(message, name), field=f"connector.{name}")
    return getattr(message, name)


def _status_change(connector: Connector, message: str) -> connectors_pb2.ConnectorStatusChange:
    return connectors_pb2.ConnectorStatusChange(
        connector_id=connector.id, status=STATUSES.to_proto(connector.status), message=message
    )


class ConnectorsServicer(connectors_pb2_grpc.ConnectorsServiceServicer):
    """Translates ConnectorsService calls to the engine; errors are mapped by the interceptor."""

    def __init__(self, engine: ConnectorsEngine) -> None:
        self._engine = engine

    async def GetConnectorSpec(
        self, request: connectors_pb2.GetConnectorSpecRequest, context: Context
    ) -> connectors_pb2.ConnectorSpec:
        kind = request.WhichOneof("kind")
        if kind == "connector_type":
            connector_type = TYPES.to_engine(request.connector_type, "connector_type")
            if connector_type is None:
                raise InvalidArgument.single("connector_type", "is required")
            schema = connector_spec(connector_type)
        elif kind == "data_source_type":
            source_type = SOURCE_TYPES.to_engine(request.data_source_type, "data_source_type")
            if source_type is None:
                raise InvalidArgument.single("data_source_type", "is required")
            schema = data_source_spec(source_type)
        else:
            raise InvalidArgument.single("kind", "set connector_type or data_source_type")
        return connectors_pb2.ConnectorSpec(
            json_schema=to_struct(schema), secret_fields=secret_fields(schema)
        )

    async def DisconnectConnector(
        self, request: connectors_pb2.DisconnectConnectorRequest, context: Context
    ) -> connectors_pb2.ConnectorStatusChange:
        return _status_change(*await self._engine.disconnect(request.tenant_id, request.connector_id))

    async def ReconnectConnector(
        self, request: connectors_pb2.ReconnectConnectorRequest, context: Context
    ) -> connectors_pb2.ConnectorStatusChange:
        return _status_change(*await self._engine.reconnect(request.tenant_id, request.connector_id))

    async def DeprecateConnector(
        self, request: connectors_pb2.DeprecateConnectorRequest, context: Context
    ) -> connectors_pb2.ConnectorStatusChange:
        return _status_change(*await self._engine.deprecate(request.tenant_id, request.connector_id))

    async def ListConnectors(
        self, request: connectors_pb2.ListConnectorsRequest, context: Context
    ) -> connectors_pb2.ListConnectorsResponse:
        filters = ConnectorFilters(
            connector_type=TYPES.to_engine(request.connector_type, "connector_type"),
            status=STATUSES.to_engine(request.status, "status"),
        )
        page = await self._engine.list(
            request.tenant_id, request.page_size, request.page_token, filters
        )
        return list_response(connectors_pb2.ListConnectorsResponse, "connectors", page, connector_to_proto)

    async def GetConnector(
        self, request: connectors_pb2.GetConnectorRequest, context: Context
    ) -> connectors_pb2.Connector:
        return connector_to_proto(await self._engine.get(request.tenant_id, request.connector_id))

    async def RegisterConnector(
        self, request: connectors_pb2.RegisterConnectorRequest, context: Context
    ) -> connectors_pb2.Connector:
        given = request.connector
        draft = ConnectorDraft(
            name=given.name,
            connector_type=TYPES.to_engine(
                given.connector_type, "connector.connector_type"
            ),
            endpoint=given.endpoint,
            config=from_struct(given.config, field="connector.config"),
            metadata=from_struct(given.metadata, field="connector.metadata"),
            credential_ref=given.credential_ref,
        )
        created = await self._engine.register(
            request.tenant_id, draft, request_id=request.request_id
        )
        return connector_to_proto(created)

    async def UpdateConnector(
        self, request: connectors_pb2.UpdateConnectorRequest, context: Context
    ) -> connectors_pb2.Connector:
        changes = requested_changes(
            request, "connector", writable=WRITABLE_FIELDS, value_of=_field_value
        )
        updated = await self._engine.update(
            request.tenant_id, request.connector.id, changes, request.connector.etag
        )
        return connector_to_proto(updated)

    async def DeleteConnector(
        self, request: connectors_pb2.DeleteConnectorRequest, context: Context
    ) -> connectors_pb2.DeleteConnectorResponse:
        deleted = await self._engine.delete(request.tenant_id, request.connector_id)
        return connectors_pb2.DeleteConnectorResponse(deleted=True, connector_id=deleted.id)

    async def TestConnector(
        self, request: connectors_pb2.TestConnectorRequest, context: Context
    ) -> connectors_pb2.ConnectorTestResult:
        outcome, connector = await self._engine.test(request.tenant_id, request.connector_id)
        return connectors_pb2.ConnectorTestResult(
            success=outcome.success,
            connector_id=connector.id,
            latency_ms=outcome.latency_ms,
            error=outcome.error,
            details=to_struct(outcome.details),
        )
