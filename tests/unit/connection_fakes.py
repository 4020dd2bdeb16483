"""Hand-written in-memory ports for the connector and data source engines' unit tests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from engines.connectors.connection_tester import ConnectionOutcome, PostgresTarget
from engines.connectors.connector import Connector, ConnectorFilters, ConnectorStatus
from engines.credentials.credential_service import Credential
from engines.data_sources.data_source import (
    ConnectionTestRecord,
    DataSource,
    DataSourceFilters,
    DataSourceStatistics,
    DataSourceStatus,
    DataSourceType,
)
from engines.kernel.errors import AlreadyExists, NotFound, Unavailable
from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest
from tests.unit.request_ids import RequestIds

__all__ = [
    "FakeConnectionTester",
    "FakeConnectorStore",
    "FakeCredentialService",
    "FakeDataSourceStore",
]

R = TypeVar("R", Connector, DataSource)


class _FakeRows(Generic[R]):
    """Live/deleted rows, request ids and per-tenant name uniqueness, as the SQL stores have."""

    def __init__(self, resource: str) -> None:
        self.rows: dict[str, R] = {}
        self.deleted: set[str] = set()
        self.request_ids: RequestIds[R] = RequestIds(resource)

    def live(self, tenant_id: str) -> list[R]:
        return [
            r for r in self.rows.values() if r.tenant_id == tenant_id and r.id not in self.deleted
        ]

    def _check_name(self, resource: R) -> None:
        if any(o.name == resource.name and o.id != resource.id for o in self.live(resource.tenant_id)):
            raise AlreadyExists("name taken")

    async def insert(self, resource: R, key: IdempotencyKey | None) -> R:
        earlier = self.request_ids.earlier(resource.tenant_id, key, self.rows, self.deleted)
        if earlier is not None:
            return earlier
        self._check_name(resource)
        self.rows[resource.id] = resource
        self.request_ids.remember(resource.tenant_id, resource.id, key)
        return resource

    async def get(self, tenant_id: str, resource_id: str) -> R | None:
        found = self.rows.get(resource_id)
        if found is None or found.tenant_id != tenant_id or resource_id in self.deleted:
            return None
        return found

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[R] | None:
        return self.request_ids.find(tenant_id, request_id, self.rows, self.deleted)

    def page(self, rows: list[R], page: PageRequest) -> tuple[Sequence[R], int]:
        rows.sort(key=lambda r: (r.create_time, r.id))
        after = [r for r in rows if page.after is None or (r.create_time, r.id) > page.after]
        return after[: page.size + 1], len(rows)

    async def replace(self, resource: R, expected_version: int) -> bool:
        current = await self.get(resource.tenant_id, resource.id)
        if current is None or current.version != expected_version:
            return False
        self._check_name(resource)
        self.rows[resource.id] = resource
        return True

    async def soft_delete(self, tenant_id: str, resource_id: str, when: datetime) -> bool:
        if await self.get(tenant_id, resource_id) is None:
            return False
        self.deleted.add(resource_id)
        return True


class FakeConnectorStore(_FakeRows[Connector]):
    """ConnectorStore in memory."""

    def __init__(self) -> None:
        super().__init__("connector")

    async def list(
        self, tenant_id: str, filters: ConnectorFilters, page: PageRequest
    ) -> tuple[Sequence[Connector], int]:
        rows = [
            c
            for c in self.live(tenant_id)
            if filters.connector_type in (None, c.connector_type)
            and filters.status in (None, c.status)
        ]
        return self.page(rows, page)

    async def record_test(
        self, tenant_id: str, connector_id: str, *, from_status: ConnectorStatus,
        status: ConnectorStatus, when: datetime, error: str,
    ) -> Connector | None:
        current = await self.get(tenant_id, connector_id)
        if current is None or current.status is not from_status:
            return None
        updated = replace(
            current, status=status, last_error=error, update_time=when,
            last_used_time=current.last_used_time if error else when,
            version=current.version + 1,
        )
        self.rows[connector_id] = updated
        return updated


def _visible(data_source: DataSource, roles: frozenset[str] | None) -> bool:
    return roles is None or not data_source.access_roles or bool(roles & set(data_source.access_roles))


class FakeDataSourceStore(_FakeRows[DataSource]):
    """DataSourceStore in memory."""

    def __init__(self) -> None:
        super().__init__("data source")

    async def list(
        self, tenant_id: str, filters: DataSourceFilters, page: PageRequest
    ) -> tuple[Sequence[DataSource], int]:
        rows = [
            d
            for d in self.live(tenant_id)
            if filters.source_type in (None, d.source_type)
            and filters.status in (None, d.status)
            and (filters.tag is None or filters.tag in d.tags)
            and _visible(d, filters.roles)
        ]
        return self.page(rows, page)

    async def record_test(self, data_source: DataSource, record: ConnectionTestRecord) -> bool:
        current = await self.get(data_source.tenant_id, data_source.id)
        if current is None or current.status is not data_source.status:
            return False
        if record.success:
            changes: dict[str, Any] = {
                "connection_count": current.connection_count + 1,
                "last_connected_time": record.when,
            }
        else:
            changes = {
                "error_count": current.error_count + 1,
                "last_error": record.error,
                "last_error_time": record.when,
            }
        self.rows[current.id] = replace(
            current, **changes, status=record.status, version=current.version + 1
        )
        return True

    async def statistics(
        self, tenant_id: str, roles: frozenset[str] | None = None
    ) -> DataSourceStatistics:
        rows = [row for row in self.live(tenant_id) if _visible(row, roles)]
        by_status: dict[DataSourceStatus, int] = {}
        by_type: dict[DataSourceType, int] = {}
        for row in rows:
            by_status[row.status] = by_status.get(row.status, 0) + 1
            by_type[row.source_type] = by_type.get(row.source_type, 0) + 1
        return DataSourceStatistics(
            total=len(rows),
            by_status=by_status,
            by_type=by_type,
            total_connections=sum(r.connection_count for r in rows),
            total_errors=sum(r.error_count for r in rows),
        )


class FakeCredentialService:
    """Secrets in a dict, keyed by `cus-vault://<tenant>/<id>` refs, scoped by tenant."""

    def __init__(self) -> None:
        self.secrets: dict[str, tuple[str, str]] = {}  # ref -> (tenant, secret)
        self.names: dict[str, str] = {}
        self.deleted: list[str] = []
        self.fail_store = False
        self.destinations: dict[str, Sequence[str]] = {}  # ref -> allowed, as stored
        self.uses: list[tuple[str, str | None]] = []  # (ref, destination) of every use

    async def use(
        self, credential_ref: str, tenant_id: str, destination: str | None
    ) -> Credential:
        self.uses.append((credential_ref, destination))
        return await self._get(credential_ref, tenant_id)

    async def _get(self, credential_ref: str, tenant_id: str) -> Credential:
        owner, secret = self.secrets.get(credential_ref, ("", ""))
        if owner != tenant_id:
            raise NotFound("credential", credential_ref)
        return Credential(value=secret)

    async def store(
        self, tenant_id: str, name: str, secret: str, destinations: Sequence[str]
    ) -> str:
        if self.fail_store:
            raise Unavailable("credential service down")
        ref = f"cus-vault://{tenant_id}/{uuid.uuid4()}"
        self.destinations[ref] = tuple(destinations)
        self.secrets[ref] = (tenant_id, secret)
        self.names[ref] = name
        return ref

    async def exists(self, tenant_id: str, credential_ref: str) -> bool:
        return self.secrets.get(credential_ref, ("", ""))[0] == tenant_id

    async def delete(self, tenant_id: str, credential_ref: str) -> None:
        await self._get(credential_ref, tenant_id)
        del self.secrets[credential_ref]
        self.deleted.append(credential_ref)


class FakeConnectionTester:
    """Records each attempt and answers with `outcome`."""

    def __init__(self, outcome: ConnectionOutcome | None = None) -> None:
        self.outcome = outcome or ConnectionOutcome(success=True, latency_ms=3)
        self.calls: list[tuple[str, Any, Mapping[str, Any]]] = []

    async def http_get(
        self, url: str, *, timeout: float, headers: Mapping[str, str] | None = None,
        verify_tls: bool = True,
    ) -> ConnectionOutcome:
        self.calls.append(
            ("http_get", url, {"timeout": timeout, "headers": dict(headers or {}),
                               "verify_tls": verify_tls})
        )
        return self.outcome

    async def postgres_select_one(self, target: PostgresTarget, *, timeout: float) -> ConnectionOutcome:
        self.calls.append(("postgres_select_one", target, {"timeout": timeout}))
        return self.outcome

    async def tcp_connect(self, host: str, port: int, *, timeout: float) -> ConnectionOutcome:
        self.calls.append(("tcp_connect", (host, port), {"timeout": timeout}))
        return self.outcome
