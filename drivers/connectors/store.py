"""SQL implementation of `engines.connectors.connector.ConnectorStore` (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from drivers.kernel.database import Database
from drivers.kernel.repository import RepositoryStore, TenantRepository
from drivers.tables.connectors_data_sources import connectors
from engines.connectors.connector import (
    RESOURCE,
    Connector,
    ConnectorFilters,
    ConnectorStatus,
    ConnectorType,
)
from engines.kernel.idempotency import IdempotencyKey
from engines.kernel.pagination import PageRequest

__all__ = ["SqlConnectorStore"]


def _to_connector(row: Any) -> Connector:
    return Connector(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        connector_type=ConnectorType(row.connector_type),
        status=ConnectorStatus(row.status),
        endpoint=row.endpoint,
        config=row.config or {},
        metadata=row.metadata or {},
        credential_ref=row.credential_ref,
        create_time=row.create_time,
        update_time=row.update_time,
        last_used_time=row.last_used_time,
        last_error=row.last_error,
        version=row.version,
    )


def _columns(connector: Connector) -> dict[str, Any]:
    return {
        "name": connector.name,
        "status": connector.status.value,
        "endpoint": connector.endpoint,
        "config": dict(connector.config),
        "metadata": dict(connector.metadata),
        "credential_ref": connector.credential_ref,
        "last_used_time": connector.last_used_time,
        "last_error": connector.last_error,
        "update_time": connector.update_time,
        "version": connector.version,
    }


class SqlConnectorStore(RepositoryStore[Connector]):
    """Connectors in the service's database."""

    def __init__(self, database: Database) -> None:
        self._rows = TenantRepository(
            database,
            connectors,
            _to_connector,
            resource=RESOURCE,
            clash="a connector with this name already exists for the tenant",
        )

    async def insert(self, connector: Connector, key: IdempotencyKey | None) -> Connector:
        values = _columns(connector) | {
            "id": connector.id,
            "tenant_id": connector.tenant_id,
            "connector_type": connector.connector_type.value,
            "create_time": connector.create_time,
        }
        return await self._rows.insert(connector, values, key)

    async def list(
        self, tenant_id: str, filters: ConnectorFilters, page: PageRequest
    ) -> tuple[Sequence[Connector], int]:
        conditions = []
        if filters.connector_type is not None:
            conditions.append(connectors.c.connector_type == filters.connector_type.value)
        if filters.status is not None:
            conditions.append(connectors.c.status == filters.status.value)
        return await self._rows.list(tenant_id, page, *conditions)

    async def replace(self, connector: Connector, expected_version: int) -> bool:
        return await self._rows.update(
            connector.tenant_id, connector.id, expected_version, _columns(connector)
        )

    async def soft_delete(self, tenant_id: str, connector_id: str, when: datetime) -> bool:
        return await self._rows.soft_delete(tenant_id, connector_id, when)

    async def record_test(
        self,
        tenant_id: str,
        connector_id: str,
        *,
        from_status: ConnectorStatus,
        status: ConnectorStatus,
        when: datetime,
        error: str,
    ) -> Connector | None:
        outcome: dict[str, Any] = {"status": status.value, "last_error": error, "update_time": when}
        if not error:
            outcome["last_used_time"] = when
        still = connectors.c.status == from_status.value
        if not await self._rows.update_live(tenant_id, connector_id, outcome, still):
            return None
        return await self.get(tenant_id, connector_id)
