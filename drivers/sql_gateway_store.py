"""SQL implementations of `engines.sql_gateway.TemplateStore` and `GatewayStore` (SQLite and
PostgreSQL). Gateways hold the credential ref only; the connection string is never stored.

Templates and gateways never change once created; the composition root wraps both stores in
`drivers.read_through.ReadThroughStore`, so ExecuteQuery costs no round trip to the service's
database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

import sqlalchemy as sa

from drivers.database import Database
from drivers.repository import RepositoryStore, TenantRepository
from drivers.tables.sql_gateway import sql_gateways, sql_query_templates
from engines.idempotency import IdempotencyKey
from engines.pagination import PageRequest
from engines.sql_gateway import GATEWAY, TEMPLATE, Gateway
from engines.sql_parameters import IdentityBinding, ParameterSpec, ParameterType
from engines.sql_templates import QueryTemplate

__all__ = ["SqlGatewayStore", "SqlTemplateStore"]

R = TypeVar("R")


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


def _to_template(row: Any) -> QueryTemplate:
    return QueryTemplate(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        description=row.description,
        sql=row.sql,
        parameters=tuple(_to_spec(spec) for spec in row.parameters),
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
        "parameters": [_spec_columns(spec) for spec in template.parameters],
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


class _ImmutableStore(RepositoryStore[R]):
    """Insert-once, get, find-by-request-id and list over one table of immutable resources."""

    def __init__(
        self,
        database: Database,
        table: sa.Table,
        to_resource: Callable[[Any], R],
        to_columns: Callable[[R], dict[str, Any]],
        *,
        resource: str,
        clash: str,
    ) -> None:
        self._rows = TenantRepository(
            database, table, to_resource, resource=resource, clash=clash
        )
        self._to_columns = to_columns

    async def insert(self, resource: R, key: IdempotencyKey | None) -> R:
        return await self._rows.insert(resource, self._to_columns(resource), key)

    async def list(
        self, tenant_id: str, filters: None, page: PageRequest
    ) -> tuple[Sequence[R], int]:
        return await self._rows.list(tenant_id, page)


class SqlTemplateStore(_ImmutableStore[QueryTemplate]):
    """Query templates in the service's database, keyed by (tenant_id, id)."""

    def __init__(self, database: Database) -> None:
        super().__init__(
            database,
            sql_query_templates,
            _to_template,
            _template_columns,
            resource=TEMPLATE,
            clash="a query template with this id already exists for the tenant; templates are "
            "immutable, register a new version under a new id",
        )


class SqlGatewayStore(_ImmutableStore[Gateway]):
    """Gateways in the service's database; names are unique per tenant."""

    def __init__(self, database: Database) -> None:
        super().__init__(
            database,
            sql_gateways,
            _to_gateway,
            _gateway_columns,
            resource=GATEWAY,
            clash="a gateway with this name already exists for the tenant",
        )
