"""integrations.v1.DataSourcesService on top of `engines.data_sources.data_source.DataSourcesEngine`.

Secrets in requests (password, api_key, a password inside connection_string) go straight to the
engine, which stores them in the credential service; responses carry only `password_set` /
`api_key_set` and the masked connection string."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from engines.data_sources.data_source import (
    WRITABLE_FIELDS,
    DataSource,
    DataSourceDraft,
    DataSourceFilters,
    DataSourcesEngine,
    DataSourceStatus,
    DataSourceType,
)
from engines.data_sources.settings import ConnectionInput, ConnectionSettings
from integrations.v1 import data_sources_pb2, data_sources_pb2_grpc
from service.call_info import Context
from service.convert import from_struct, set_timestamp, to_struct
from service.enums import EnumMap
from service.field_mask import requested_changes
from service.servicers.listing import list_response

__all__ = ["DataSourcesServicer", "data_source_to_proto"]

TYPES = EnumMap(data_sources_pb2.DataSourceType, DataSourceType, "DATA_SOURCE_TYPE")
STATUSES = EnumMap(data_sources_pb2.DataSourceStatus, DataSourceStatus, "DATA_SOURCE_STATUS")

_R = TypeVar("_R")


def _config_to_proto(settings: ConnectionSettings) -> data_sources_pb2.DataSourceConfig:
    return data_sources_pb2.DataSourceConfig(
        connection_string=settings.connection_string,
        host=settings.host,
        port=settings.port,
        username=settings.username,
        database=settings.database,
        auth_type=settings.auth_type,
        ssl_enabled=settings.ssl_enabled,
        ssl_verify=settings.ssl_verify,
        pool_size=settings.pool_size,
        pool_timeout_seconds=settings.pool_timeout_seconds,
        max_retries=settings.max_retries,
        options=to_struct(settings.options),
        password_set=settings.password_set,
        api_key_set=settings.api_key_set,
    )


def _config_input(config: data_sources_pb2.DataSourceConfig) -> ConnectionInput:
    settings = ConnectionSettings(
        connection_string=config.connection_string,
        host=config.host,
        port=config.port,
        username=config.username,
        database=config.database,
        auth_type=config.auth_type,
        ssl_enabled=config.ssl_enabled,
        ssl_verify=config.ssl_verify,
        pool_size=config.pool_size,
        pool_timeout_seconds=config.pool_timeout_seconds,
        max_retries=config.max_retries,
        options=from_struct(config.options, field="data_source.config.options"),
    )
    return ConnectionInput(
        settings=settings,
        password=config.password,
        api_key=config.api_key,
        clear_password=config.clear_password,
        clear_api_key=config.clear_api_key,
    )


def data_source_to_proto(data_source: DataSource) -> data_sources_pb2.DataSource:
    message = data_sources_pb2.DataSource(
        id=data_source.id,
        tenant_id=data_source.tenant_id,
        name=data_source.name,
        source_type=TYPES.to_proto(data_source.source_type),
        status=STATUSES.to_proto(data_source.status),
        config=_config_to_proto(data_source.config),
        description=data_source.description,
        tags=list(data_source.tags),
        metadata=to_struct(data_source.metadata),
        owner_id=data_source.owner_id,
        access_roles=list(data_source.access_roles),
        last_error=data_source.last_error,
        connection_count=data_source.connection_count,
        error_count=data_source.error_count,
        etag=data_source.etag,
    )
    set_timestamp(message.last_connected_time, data_source.last_connected_time)
    set_timestamp(message.last_error_time, data_source.last_error_time)
    set_timestamp(message.create_time, data_source.create_time)
    set_timestamp(message.update_time, data_source.update_time)
    return message


def _field_value(message: data_sources_pb2.DataSource, name: str) -> Any:
    if name == "config":
        return _config_input(message.config)
    if name == "metadata":
        return from_struct(message.metadata, field="data_source.metadata")
    if name in ("tags", "access_roles"):
        return list(getattr(message, name))
    return getattr(message, name)


class DataSourcesServicer(data_sources_pb2_grpc.DataSourcesServiceServicer):
    """Translates DataSourcesService calls to the engine; errors are mapped by the interceptor."""

    def __init__(self, engine: DataSourcesEngine) -> None:
        self._engine = engine

    async def RegisterDataSource(
        self, request: data_sources_pb2.RegisterDataSourceRequest, context: Context
    ) -> data_sources_pb2.DataSource:
        given = request.data_source
        draft = DataSourceDraft(
            name=given.name,
            source_type=TYPES.to_engine(given.source_type, "data_source.source_type"),
            config=_config_input(given.config),
            description=given.description,
            tags=list(given.tags),
            metadata=from_struct(given.metadata, field="data_source.metadata"),
            owner_id=given.owner_id,
            access_roles=list(given.access_roles),
        )
        created = await self._engine.register(
            request.tenant_id, draft, request_id=request.request_id
        )
        return data_source_to_proto(created)

    async def ListDataSources(
        self, request: data_sources_pb2.ListDataSourcesRequest, context: Context
    ) -> data_sources_pb2.ListDataSourcesResponse:
        filters = DataSourceFilters(
            source_type=TYPES.to_engine(request.source_type, "source_type"),
            status=STATUSES.to_engine(request.status, "status"),
            tag=request.tag or None,
        )
        page = await self._engine.list(
            request.tenant_id, request.page_size, request.page_token, filters
        )
        return list_response(
            data_sources_pb2.ListDataSourcesResponse, "data_sources", page, data_source_to_proto
        )

    async def GetDataSource(
        self, request: data_sources_pb2.GetDataSourceRequest, context: Context
    ) -> data_sources_pb2.DataSource:
        return data_source_to_proto(
            await self._engine.get(request.tenant_id, request.data_source_id)
        )

    async def UpdateDataSource(
        self, request: data_sources_pb2.UpdateDataSourceRequest, context: Context
    ) -> data_sources_pb2.DataSource:
        changes = requested_changes(
            request, "data_source", writable=WRITABLE_FIELDS, value_of=_field_value
        )
        updated = await self._engine.update(
            request.tenant_id, request.data_source.id, changes, request.data_source.etag
        )
        return data_source_to_proto(updated)

    async def DeleteDataSource(
        self, request: data_sources_pb2.DeleteDataSourceRequest, context: Context
    ) -> data_sources_pb2.DeleteDataSourceResponse:
        deleted = await self._engine.delete(request.tenant_id, request.data_source_id)
        return data_sources_pb2.DeleteDataSourceResponse(deleted=True, data_source_id=deleted.id)

    async def TestDataSourceConnection(
        self, request: data_sources_pb2.TestDataSourceConnectionRequest, context: Context
    ) -> data_sources_pb2.TestDataSourceConnectionResponse:
        outcome, _ = await self._engine.test_connection(request.tenant_id, request.data_source_id)
        message = f"connected in {outcome.latency_ms} ms" if outcome.success else outcome.error
        return data_sources_pb2.TestDataSourceConnectionResponse(
            success=outcome.success,
            message=message,
            latency_ms=outcome.latency_ms,
            details=to_struct(outcome.details),
        )

    async def DiscoverDataSource(
        self, request: data_sources_pb2.DiscoverDataSourceRequest, context: Context
    ) -> data_sources_pb2.DiscoverDataSourceResponse:
        found = await self._engine.discover(
            request.tenant_id, request.data_source_id, request.max_tables
        )
        return data_sources_pb2.DiscoverDataSourceResponse(
            success=found.outcome.success,
            message=found.outcome.error,
            latency_ms=found.outcome.latency_ms,
            tables=[
                data_sources_pb2.DiscoveredTable(
                    schema=t.schema,
                    name=t.name,
                    kind=t.kind,
                    columns=[
                        data_sources_pb2.DiscoveredColumn(
                            name=c.name, data_type=c.data_type, nullable=c.nullable
                        )
                        for c in t.columns
                    ],
                )
                for t in found.tables
            ],
            truncated=found.truncated,
            http=dict(found.http),
            details=to_struct(found.outcome.details),
        )

    async def ActivateDataSource(
        self, request: data_sources_pb2.ActivateDataSourceRequest, context: Context
    ) -> data_sources_pb2.ActivateDataSourceResponse:
        return await self._lifecycle(
            self._engine.activate, request, data_sources_pb2.ActivateDataSourceResponse
        )

    async def DeactivateDataSource(
        self, request: data_sources_pb2.DeactivateDataSourceRequest, context: Context
    ) -> data_sources_pb2.DeactivateDataSourceResponse:
        return await self._lifecycle(
            self._engine.deactivate, request, data_sources_pb2.DeactivateDataSourceResponse
        )

    async def DeprecateDataSource(
        self, request: data_sources_pb2.DeprecateDataSourceRequest, context: Context
    ) -> data_sources_pb2.DeprecateDataSourceResponse:
        return await self._lifecycle(
            self._engine.deprecate, request, data_sources_pb2.DeprecateDataSourceResponse
        )

    @staticmethod
    async def _lifecycle(
        action: Callable[[str, str], Awaitable[tuple[DataSource, str]]],
        request: Any,
        response_type: Callable[..., _R],
    ) -> _R:
        data_source, message = await action(request.tenant_id, request.data_source_id)
        return response_type(
            data_source_id=data_source.id,
            status=STATUSES.to_proto(data_source.status),
            message=message,
        )

    async def GetDataSourceStatistics(
        self, request: data_sources_pb2.GetDataSourceStatisticsRequest, context: Context
    ) -> data_sources_pb2.GetDataSourceStatisticsResponse:
        stats = await self._engine.statistics(request.tenant_id)
        by_status = stats.by_status
        return data_sources_pb2.GetDataSourceStatisticsResponse(
            total_sources=stats.total,
            active_sources=by_status.get(DataSourceStatus.ACTIVE, 0),
            inactive_sources=by_status.get(DataSourceStatus.INACTIVE, 0),
            error_sources=by_status.get(DataSourceStatus.ERROR, 0),
            pending_sources=by_status.get(DataSourceStatus.PENDING, 0),
            configuring_sources=by_status.get(DataSourceStatus.CONFIGURING, 0),
            deprecated_sources=by_status.get(DataSourceStatus.DEPRECATED, 0),
            sources_by_type={
                data_sources_pb2.DataSourceType.Name(TYPES.to_proto(t)): n
                for t, n in stats.by_type.items()
            },
            total_connections=stats.total_connections,
            total_errors=stats.total_errors,
        )
