"""SQL implementations of `engines.sql_gateway.gateway.TemplateStore` and `GatewayStore` (SQLite and
PostgreSQL). Gateways hold the credential ref only; the connection string is never stored.

`changed(tenant_id)` hears of every write, for the cache of what ExecuteQuery reads
(drivers/sql_gateway/cached_executions.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.kernel.database import Database
from drivers.kernel.repository import RepositoryStore, TenantRepository
from drivers.tables.sql_gateway import sql_gateways, sql_query_template_versions, sql_query_templates
from engines.kernel.idempotency import IdempotencyKey
from engines.kernel.pagination import PageRequest
from engines.sql_gateway.gateway import GATEWAY, TEMPLATE, Gateway, GatewayFilters, TemplateFilters
from engines.sql_gateway.parameters import IdentityBinding, ParameterSpec, ParameterType
from engines.sql_gateway.templates import QueryTemplate

__all__ = ["SqlGatewayStore", "SqlTemplateStore"]

ACTIVE, DISABLED = "active", "disabled"


def _to_spec(stored: dict[str, Any]) -> ParameterSpec:
    # Specs stored before allowed values, patterns and identity bindings lack those keys.
    bound_to = stored.get("bound_to")
    return ParameterSpec(
        **{
            **stored,
            "type": ParameterType(stored["type"]),
            "allowed_values": tuple(stored.get("allowed_values") or ()),
            "pattern": stored.get("pattern") or "",
            "bound_to": IdentityBinding(bound_to) if bound_to else None,
        }
    )


def _spec_columns(spec: ParameterSpec) -> dict[str, Any]:
    return {
        **asdict(spec),
        "type": spec.type.value,
        "allowed_values": list(spec.allowed_values),
        "bound_to": spec.bound_to.value if spec.bound_to else None,
    }


def _content(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "sql": row.sql,
        "parameters": tuple(_to_spec(spec) for spec in row.parameters),
        "read_only": bool(row.read_only),
        "max_rows": row.max_rows,
        "timeout_seconds": row.timeout_seconds,
    }


def _to_template(row: Any) -> QueryTemplate:
    return QueryTemplate(
        id=row.id,
        tenant_id=row.tenant_id,
        **_content(row),
        create_time=row.create_time,
        version=row.latest_version,
        revision=row.version,
        update_time=row.update_time,
        disabled=row.state == DISABLED,
    )


def _to_template_version(row: Any) -> QueryTemplate:
    # An older version's snapshot: revision 0, so its etag never passes an update.
    return QueryTemplate(
        id=row.template_id,
        tenant_id=row.tenant_id,
        **_content(row),
        create_time=row.create_time,
        version=row.version,
        revision=0,
        update_time=row.create_time,
    )


def _content_columns(template: QueryTemplate) -> dict[str, Any]:
    return {
        "name": template.name,
        "description": template.description,
        "sql": template.sql,
        "parameters": [_spec_columns(spec) for spec in template.parameters],
        "read_only": template.read_only,
        "max_rows": template.max_rows,
        "timeout_seconds": template.timeout_seconds,
    }


def _template_columns(template: QueryTemplate) -> dict[str, Any]:
    return {
        "tenant_id": template.tenant_id,
        "id": template.id,
        **_content_columns(template),
        "create_time": template.create_time,
        "update_time": template.updated,
        "version": template.revision,
        "latest_version": template.version,
        "state": DISABLED if template.disabled else ACTIVE,
    }


def _version_columns(template: QueryTemplate) -> dict[str, Any]:
    return {
        "tenant_id": template.tenant_id,
        "template_id": template.id,
        "version": template.version,
        **_content_columns(template),
        # The version's own creation: when it became the latest.
        "create_time": template.updated,
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
        template_versions={k: int(v) for k, v in (row.template_versions or {}).items()},
        version=row.version,
        update_time=row.update_time,
    )


def _gateway_columns(gateway: Gateway) -> dict[str, Any]:
    return {
        "id": gateway.id,
        "tenant_id": gateway.tenant_id,
        "name": gateway.name,
        "connection_string_ref": gateway.connection_string_ref,
        "allowed_template_ids": list(gateway.allowed_template_ids),
        "template_versions": dict(gateway.template_versions),
        "max_rows": gateway.max_rows,
        "max_result_bytes": gateway.max_result_bytes,
        "timeout_seconds": gateway.timeout_seconds,
        "read_only": gateway.read_only,
        "create_time": gateway.create_time,
        "update_time": gateway.updated,
        "version": gateway.version,
    }


class SqlTemplateStore(RepositoryStore[QueryTemplate]):
    """Query templates in the service's database, keyed by (tenant_id, id): the latest version
    in `sql_query_templates`, every version's content in `sql_query_template_versions`."""

    def __init__(self, database: Database, *, changed: Callable[[str], None] | None = None) -> None:
        self._db = database
        self._rows = TenantRepository(
            database,
            sql_query_templates,
            _to_template,
            changed=changed,
            resource=TEMPLATE,
            clash="a query template with this id already exists for the tenant (a deleted one "
            "keeps its id); UpdateQueryTemplate writes a new version",
        )
        versions = sql_query_template_versions.c
        live = sa.exists().where(
            sql_query_templates.c.tenant_id == versions.tenant_id,
            sql_query_templates.c.id == versions.template_id,
            sql_query_templates.c.delete_time.is_(None),
        )
        self._get_version = sa.select(sql_query_template_versions).where(
            versions.tenant_id == sa.bindparam("tenant_id"),
            versions.template_id == sa.bindparam("template_id"),
            versions.version == sa.bindparam("version"),
            live,
        )

    async def insert(self, resource: QueryTemplate, key: IdempotencyKey | None) -> QueryTemplate:
        async def first_version(conn: AsyncConnection) -> None:
            await conn.execute(sql_query_template_versions.insert().values(**_version_columns(resource)))

        return await self._rows.insert(resource, _template_columns(resource), key, after=first_version)

    async def get_version(self, tenant_id: str, template_id: str, version: int) -> QueryTemplate | None:
        params = {"tenant_id": tenant_id, "template_id": template_id, "version": version}
        async with self._db.read() as conn:
            row = (await conn.execute(self._get_version, params)).first()
        return _to_template_version(row) if row else None

    async def save(
        self, template: QueryTemplate, expected_revision: int, *, new_version: bool
    ) -> bool:
        async def add_version(conn: AsyncConnection) -> None:
            await conn.execute(sql_query_template_versions.insert().values(**_version_columns(template)))

        values = _template_columns(template)
        for fixed in ("tenant_id", "id", "create_time"):
            values.pop(fixed)
        return await self._rows.update(
            template.tenant_id,
            template.id,
            expected_revision,
            values,
            after=add_version if new_version else None,
        )

    async def soft_delete(self, tenant_id: str, template_id: str, when: datetime) -> bool:
        return await self._rows.soft_delete(tenant_id, template_id, when)

    async def list(
        self, tenant_id: str, filters: TemplateFilters, page: PageRequest
    ) -> tuple[Sequence[QueryTemplate], int]:
        conditions = []
        if filters.disabled is not None:
            state = DISABLED if filters.disabled else ACTIVE
            conditions.append(sql_query_templates.c.state == state)
        return await self._rows.list(tenant_id, page, *conditions)


_TEMPLATE_PREFIX = "template__"
_WITH_TEMPLATE = (
    sa.select(
        sql_gateways,
        *(c.label(_TEMPLATE_PREFIX + c.name) for c in sql_query_templates.c),
    )
    .select_from(
        sql_gateways.outerjoin(
            sql_query_templates,
            sa.and_(
                sql_query_templates.c.tenant_id == sql_gateways.c.tenant_id,
                sql_query_templates.c.id == sa.bindparam("template_id"),
                sql_query_templates.c.delete_time.is_(None),
            ),
        )
    )
    .where(
        sql_gateways.c.tenant_id == sa.bindparam("tenant_id"),
        sql_gateways.c.id == sa.bindparam("gateway_id"),
        sql_gateways.c.delete_time.is_(None),
    )
)


class SqlGatewayStore(RepositoryStore[Gateway]):
    """Gateways in the service's database; names are unique among a tenant's live gateways."""

    def __init__(self, database: Database, *, changed: Callable[[str], None] | None = None) -> None:
        self._db = database
        self._rows = TenantRepository(
            database,
            sql_gateways,
            _to_gateway,
            changed=changed,
            resource=GATEWAY,
            clash="a gateway with this name already exists for the tenant",
        )

    async def insert(self, resource: Gateway, key: IdempotencyKey | None) -> Gateway:
        return await self._rows.insert(resource, _gateway_columns(resource), key)

    async def get_with_template(
        self, tenant_id: str, gateway_id: str, template_id: str
    ) -> tuple[Gateway | None, QueryTemplate | None]:
        """The live gateway and the live template `template_id` of the tenant, one query."""
        params = {"tenant_id": tenant_id, "gateway_id": gateway_id, "template_id": template_id}
        async with self._db.read() as conn:
            row = (await conn.execute(_WITH_TEMPLATE, params)).first()
        if row is None:
            return None, None
        mapping = row._mapping
        if mapping[_TEMPLATE_PREFIX + "id"] is None:
            return _to_gateway(row), None
        template_row = SimpleNamespace(
            **{c.name: mapping[_TEMPLATE_PREFIX + c.name] for c in sql_query_templates.c}
        )
        return _to_gateway(row), _to_template(template_row)

    async def replace(self, resource: Gateway, expected_version: int) -> bool:
        values = _gateway_columns(resource)
        for fixed in ("tenant_id", "id", "create_time"):
            values.pop(fixed)
        return await self._rows.update(resource.tenant_id, resource.id, expected_version, values)

    async def soft_delete(self, tenant_id: str, resource_id: str, when: datetime) -> bool:
        return await self._rows.soft_delete(tenant_id, resource_id, when)

    async def list(
        self, tenant_id: str, filters: GatewayFilters, page: PageRequest
    ) -> tuple[Sequence[Gateway], int]:
        conditions = []
        if filters.template_id:
            conditions.append(self._allows(filters.template_id))
        return await self._rows.list(tenant_id, page, *conditions)

    def _allows(self, template_id: str) -> sa.ColumnElement[bool]:
        """The allow-list (a JSON array) names `template_id`."""
        column = sql_gateways.c.allowed_template_ids
        if self._db.is_sqlite:
            element = sa.func.json_each(column).table_valued("value")
            return sa.exists().where(element.c.value == template_id)
        return sa.cast(column, JSONB).contains(sa.cast(sa.literal(json.dumps([template_id])), JSONB))
