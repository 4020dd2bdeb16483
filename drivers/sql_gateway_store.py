"""SQL implementations of `engines.sql_gateway.TemplateStore` and `GatewayStore` (SQLite and
PostgreSQL). Gateways hold the credential ref only; the connection string is never stored.

Templates and gateways never change once created, so `get` keeps found rows in a small
per-process cache for a minute: ExecuteQuery then costs no round trip to the service's database.
A future update or delete RPC must invalidate it (or drop the TTL)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from drivers.database import Database
from drivers.keyset import page_of
from drivers.tables.sql_gateway import sql_gateways, sql_query_templates
from engines.errors import AlreadyExists
from engines.pagination import PageRequest
from engines.sql_gateway import Gateway
from engines.sql_parameters import ParameterSpec, ParameterType
from engines.sql_templates import QueryTemplate

__all__ = ["SqlGatewayStore", "SqlTemplateStore"]

R = TypeVar("R")

_CACHE_SECONDS = 60.0
_CACHE_ENTRIES = 4096


def _to_template(row: Any) -> QueryTemplate:
    return QueryTemplate(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        sql=row.sql,
        parameters=tuple(
            ParameterSpec(**{**spec, "type": ParameterType(spec["type"])})
            for spec in row.parameters
        ),
        read_only=bool(row.read_only),
        max_rows=row.max_rows,
        timeout_seconds=row.timeout_seconds,
        create_time=row.create_time,
    )


def _template_columns(template: QueryTemplate) -> dict[str, Any]:
    return {
        "tenant_id": template.tenant_id,
        "id": template.id,
        "name": template.name,
        "description": template.description,
        "sql": template.sql,
        "parameters": [
            {**asdict(spec), "type": spec.type.value} for spec in template.parameters
        ],
        "read_only": template.read_only,
        "max_rows": template.max_rows,
        "timeout_seconds": template.timeout_seconds,
        "create_time": template.create_time,
    }


def _to_gateway(row: Any) -> Gateway:
    return Gateway(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        connection_string_ref=row.connection_string_ref,
        allowed_template_ids=tuple(row.allowed_template_ids),
        max_rows=row.max_rows,
        max_result_bytes=row.max_result_bytes,
        timeout_seconds=row.timeout_seconds,
        read_only=bool(row.read_only),
        create_time=row.create_time,
    )


def _gateway_columns(gateway: Gateway) -> dict[str, Any]:
    return {
        "id": gateway.id,
        "tenant_id": gateway.tenant_id,
        "name": gateway.name,
        "connection_string_ref": gateway.connection_string_ref,
        "allowed_template_ids": list(gateway.allowed_template_ids),
        "max_rows": gateway.max_rows,
        "max_result_bytes": gateway.max_result_bytes,
        "timeout_seconds": gateway.timeout_seconds,
        "read_only": gateway.read_only,
        "create_time": gateway.create_time,
    }


class _TenantTable(Generic[R]):
    """Insert-once, get, find-by-request-id and keyset list over one tenant-scoped table."""

    def __init__(
        self,
        database: Database,
        table: sa.Table,
        to_resource: Callable[[Any], R],
        to_columns: Callable[[R], dict[str, Any]],
        clash: str,
    ) -> None:
        self._db = database
        self._table = table
        self._to_resource = to_resource
        self._to_columns = to_columns
        self._clash = clash
        self._cache: OrderedDict[tuple[str, str], tuple[float, R]] = OrderedDict()

    async def insert(self, resource: R, request_id: str | None) -> R:
        values = self._to_columns(resource) | {"request_id": request_id}
        try:
            async with self._db.transaction() as conn:
                await conn.execute(self._table.insert().values(**values))
        except IntegrityError:
            if request_id is not None:
                earlier = await self.find_by_request_id(values["tenant_id"], request_id)
                if earlier is not None:
                    return earlier
            raise AlreadyExists(self._clash) from None
        return resource

    async def _one(self, *conditions: Any) -> R | None:
        async with self._db.transaction() as conn:
            row = (await conn.execute(sa.select(self._table).where(*conditions))).first()
        return self._to_resource(row) if row else None

    async def get(self, tenant_id: str, resource_id: str) -> R | None:
        key = (tenant_id, resource_id)
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        table = self._table
        found = await self._one(table.c.tenant_id == tenant_id, table.c.id == resource_id)
        if found is not None:  # misses are not cached: a create must be visible at once
            self._cache[key] = (now + _CACHE_SECONDS, found)
            self._cache.move_to_end(key)
            while len(self._cache) > _CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return found

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> R | None:
        table = self._table
        return await self._one(table.c.tenant_id == tenant_id, table.c.request_id == request_id)

    async def list(self, tenant_id: str, page: PageRequest) -> tuple[Sequence[R], int]:
        table = self._table
        mine = table.c.tenant_id == tenant_id
        async with self._db.transaction() as conn:
            rows = (await conn.execute(page_of(sa.select(table).where(mine), table, page))).all()
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(table).where(mine))
            ).scalar_one()
        return [self._to_resource(r) for r in rows], int(total)


class SqlTemplateStore(_TenantTable[QueryTemplate]):
    """Query templates in the service's database, keyed by (tenant_id, id)."""

    def __init__(self, database: Database) -> None:
        super().__init__(
            database,
            sql_query_templates,
            _to_template,
            _template_columns,
            "a query template with this id already exists for the tenant; templates are "
            "immutable, register a new version under a new id",
        )


class SqlGatewayStore(_TenantTable[Gateway]):
    """Gateways in the service's database; names are unique per tenant."""

    def __init__(self, database: Database) -> None:
        super().__init__(
            database,
            sql_gateways,
            _to_gateway,
            _gateway_columns,
            "a gateway with this name already exists for the tenant",
        )
