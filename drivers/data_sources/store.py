"""SQL implementation of `engines.data_sources.data_source.DataSourceStore` (SQLite and PostgreSQL).

Connection settings are stored as JSON without secrets; the refs to the secrets have their own
columns. Statistics are grouped counts computed by the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.kernel.database import Database
from drivers.kernel.repository import AfterWrite, RepositoryStore, TenantRepository
from drivers.tables.connectors_data_sources import data_source_roles, data_source_tags, data_sources
from engines.data_sources.data_source import (
    RESOURCE,
    ConnectionTestRecord,
    DataSource,
    DataSourceFilters,
    DataSourceStatistics,
    DataSourceStatus,
    DataSourceType,
)
from engines.data_sources.settings import ConnectionSettings
from engines.kernel.idempotency import IdempotencyKey
from engines.kernel.pagination import PageRequest

__all__ = ["SqlDataSourceStore"]

_REFS = ("password_ref", "api_key_ref")


def _settings_json(settings: ConnectionSettings) -> dict[str, Any]:
    values = asdict(settings)
    for ref in _REFS:
        values.pop(ref)
    values["options"] = dict(settings.options)
    return values


def _to_data_source(row: Any) -> DataSource:
    known = set(ConnectionSettings.__slots__) - set(_REFS)
    settings = {k: v for k, v in (row.config or {}).items() if k in known}
    return DataSource(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        source_type=DataSourceType(row.source_type),
        status=DataSourceStatus(row.status),
        config=ConnectionSettings(
            **settings, password_ref=row.password_ref, api_key_ref=row.api_key_ref
        ),
        description=row.description,
        tags=tuple(row.tags or ()),
        metadata=row.metadata or {},
        owner_id=row.owner_id,
        access_roles=tuple(row.access_roles or ()),
        create_time=row.create_time,
        update_time=row.update_time,
        last_connected_time=row.last_connected_time,
        last_error=row.last_error,
        last_error_time=row.last_error_time,
        connection_count=row.connection_count,
        error_count=row.error_count,
        version=row.version,
    )


def _columns(data_source: DataSource) -> dict[str, Any]:
    return {
        "name": data_source.name,
        "status": data_source.status.value,
        "config": _settings_json(data_source.config),
        "password_ref": data_source.config.password_ref,
        "api_key_ref": data_source.config.api_key_ref,
        "description": data_source.description,
        "tags": list(data_source.tags),
        "metadata": dict(data_source.metadata),
        "owner_id": data_source.owner_id,
        "access_roles": list(data_source.access_roles),
        "update_time": data_source.update_time,
        "version": data_source.version,
    }


def _write_labels(data_source: DataSource) -> AfterWrite:
    """Rewrites the rows lists filter on: the data source's tags and access roles."""

    async def write(conn: AsyncConnection) -> None:
        for table, column, values in (
            (data_source_tags, "tag", data_source.tags),
            (data_source_roles, "role", data_source.access_roles),
        ):
            await conn.execute(table.delete().where(table.c.data_source_id == data_source.id))
            if values:
                await conn.execute(
                    table.insert(),
                    [
                        {"data_source_id": data_source.id, "tenant_id": data_source.tenant_id,
                         column: value}
                        for value in values
                    ],
                )

    return write


def visible_to(roles: frozenset[str] | None, tenant_id: str) -> list[sa.ColumnElement[bool]]:
    """Conditions that keep data sources with access roles from callers holding none of them
    (None: the caller sees every data source)."""
    if roles is None:
        return []
    restricted = sa.exists().where(
        data_source_roles.c.data_source_id == data_sources.c.id,
        data_source_roles.c.tenant_id == tenant_id,
    )
    held = sa.exists().where(
        data_source_roles.c.data_source_id == data_sources.c.id,
        data_source_roles.c.tenant_id == tenant_id,
        data_source_roles.c.role.in_(sorted(roles)),
    )
    return [sa.or_(~restricted, held)]


class SqlDataSourceStore(RepositoryStore[DataSource]):
    """Data sources and their tags in the service's database."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._rows = TenantRepository(
            database,
            data_sources,
            _to_data_source,
            resource=RESOURCE,
            clash="a data source with this name already exists for the tenant",
        )

    async def insert(self, data_source: DataSource, key: IdempotencyKey | None) -> DataSource:
        values = _columns(data_source) | {
            "id": data_source.id,
            "tenant_id": data_source.tenant_id,
            "source_type": data_source.source_type.value,
            "last_connected_time": data_source.last_connected_time,
            "last_error": data_source.last_error,
            "last_error_time": data_source.last_error_time,
            "connection_count": data_source.connection_count,
            "error_count": data_source.error_count,
            "create_time": data_source.create_time,
        }
        return await self._rows.insert(data_source, values, key, _write_labels(data_source))

    async def list(
        self, tenant_id: str, filters: DataSourceFilters, page: PageRequest
    ) -> tuple[Sequence[DataSource], int]:
        conditions = visible_to(filters.roles, tenant_id)
        if filters.source_type is not None:
            conditions.append(data_sources.c.source_type == filters.source_type.value)
        if filters.status is not None:
            conditions.append(data_sources.c.status == filters.status.value)
        if filters.tag is not None:
            conditions.append(
                sa.exists().where(
                    data_source_tags.c.data_source_id == data_sources.c.id,
                    data_source_tags.c.tenant_id == tenant_id,
                    data_source_tags.c.tag == filters.tag,
                )
            )
        return await self._rows.list(tenant_id, page, *conditions)

    async def replace(self, data_source: DataSource, expected_version: int) -> bool:
        return await self._rows.update(
            data_source.tenant_id,
            data_source.id,
            expected_version,
            _columns(data_source),
            _write_labels(data_source),
        )

    async def soft_delete(self, tenant_id: str, data_source_id: str, when: datetime) -> bool:
        return await self._rows.soft_delete(tenant_id, data_source_id, when)

    async def record_test(self, data_source: DataSource, record: ConnectionTestRecord) -> bool:
        values: dict[str, Any] = {"status": record.status.value, "update_time": record.when}
        if record.success:
            values |= {
                "connection_count": data_sources.c.connection_count + 1,
                "last_connected_time": record.when,
            }
        else:
            values |= {
                "error_count": data_sources.c.error_count + 1,
                "last_error": record.error,
                "last_error_time": record.when,
            }
        return await self._rows.update_live(
            data_source.tenant_id,
            data_source.id,
            values,
            data_sources.c.status == data_source.status.value,
        )

    async def statistics(
        self, tenant_id: str, roles: frozenset[str] | None = None
    ) -> DataSourceStatistics:
        query = (
            sa.select(
                data_sources.c.status,
                data_sources.c.source_type,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(data_sources.c.connection_count), 0),
                sa.func.coalesce(sa.func.sum(data_sources.c.error_count), 0),
            )
            .where(
                data_sources.c.tenant_id == tenant_id,
                data_sources.c.delete_time.is_(None),
                *visible_to(roles, tenant_id),
            )
            .group_by(data_sources.c.status, data_sources.c.source_type)
        )
        async with self._db.read() as conn:
            groups = (await conn.execute(query)).all()
        by_status: dict[DataSourceStatus, int] = {}
        by_type: dict[DataSourceType, int] = {}
        connections = errors = 0
        for status, source_type, count, connection_sum, error_sum in groups:
            by_status[DataSourceStatus(status)] = by_status.get(DataSourceStatus(status), 0) + count
            by_type[DataSourceType(source_type)] = by_type.get(DataSourceType(source_type), 0) + count
            connections += int(connection_sum)
            errors += int(error_sum)
        return DataSourceStatistics(
            total=sum(by_status.values()),
            by_status=by_status,
            by_type=by_type,
            total_connections=connections,
            total_errors=errors,
        )
