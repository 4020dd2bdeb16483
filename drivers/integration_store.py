"""SQL implementation of `engines.integrations.IntegrationStore` (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from drivers.database import Database
from drivers.keyset import page_of
from drivers.tables.integrations import integrations, usage_events
from engines.errors import AlreadyExists
from engines.integrations import (
    HealthState,
    Integration,
    IntegrationFilters,
    IntegrationStatus,
    ProviderType,
    UsageEvent,
    UsageTotals,
)
from engines.pagination import PageRequest

__all__ = ["SqlIntegrationStore", "row_to_integration"]

_HALF_BITS = 32
_LOW_MASK = (1 << _HALF_BITS) - 1

_live = integrations.c.delete_time.is_(None)
# Built once: the hot read path then skips constructing the expression on every call.
_GET_LIVE = sa.select(integrations).where(
    integrations.c.tenant_id == sa.bindparam("tenant_id"),
    integrations.c.id == sa.bindparam("integration_id"),
    _live,
)


def row_to_integration(row: Any) -> Integration:
    """The engine dataclass of an `integrations` row."""
    return Integration(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        provider_type=ProviderType(row.provider_type),
        credential_ref=row.credential_ref,
        config=row.config or {},
        default_model=row.default_model,
        status=IntegrationStatus(row.status),
        health_state=HealthState(row.health_state),
        health_message=row.health_message,
        health_checked_at=row.health_checked_at,
        budget_limit_cents=row.budget_limit_cents,
        token_limit_month=row.token_limit_month,
        rate_limit_rpm=row.rate_limit_rpm,
        created_by=row.created_by,
        create_time=row.create_time,
        update_time=row.update_time,
        version=row.version,
    )


def _columns(integration: Integration) -> dict[str, Any]:
    return {
        "name": integration.name,
        "provider_type": integration.provider_type.value,
        "credential_ref": integration.credential_ref,
        "config": dict(integration.config),
        "default_model": integration.default_model,
        "status": integration.status.value,
        "budget_limit_cents": integration.budget_limit_cents,
        "token_limit_month": integration.token_limit_month,
        "rate_limit_rpm": integration.rate_limit_rpm,
        "update_time": integration.update_time,
        "version": integration.version,
    }


def _name_clash(exc: IntegrityError) -> AlreadyExists:
    return AlreadyExists("an integration with this name already exists for the tenant")


class SqlIntegrationStore:
    """Integrations and usage events in the service's database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def insert(self, integration: Integration, request_id: str | None) -> Integration:
        values = _columns(integration) | {
            "id": integration.id,
            "tenant_id": integration.tenant_id,
            "created_by": integration.created_by,
            "create_time": integration.create_time,
            "request_id": request_id,
            # Health is written only by drivers/health_store.py after a probe; an update that
            # read the row before a probe finished must not put the old health back.
            "health_state": integration.health_state.value,
            "health_message": integration.health_message,
            "health_checked_at": integration.health_checked_at,
        }
        try:
            async with self._db.transaction() as conn:
                await conn.execute(integrations.insert().values(**values))
        except IntegrityError as exc:
            if request_id is not None:
                earlier = await self.find_by_request_id(integration.tenant_id, request_id)
                if earlier is not None:
                    return earlier
            raise _name_clash(exc) from None
        return integration

    async def get(self, tenant_id: str, integration_id: str) -> Integration | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    _GET_LIVE, {"tenant_id": tenant_id, "integration_id": integration_id}
                )
            ).first()
        return row_to_integration(row) if row else None

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Integration | None:
        # Deleted ones count too: a retried create must not resurrect a deleted integration.
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(integrations).where(
                        integrations.c.tenant_id == tenant_id,
                        integrations.c.request_id == request_id,
                    )
                )
            ).first()
        return row_to_integration(row) if row else None

    async def list(
        self, tenant_id: str, filters: IntegrationFilters, page: PageRequest
    ) -> tuple[Sequence[Integration], int]:
        conditions = [integrations.c.tenant_id == tenant_id, _live]
        if filters.status is not None:
            conditions.append(integrations.c.status == filters.status.value)
        if filters.provider_type is not None:
            conditions.append(integrations.c.provider_type == filters.provider_type.value)
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    page_of(sa.select(integrations).where(*conditions), integrations, page)
                )
            ).all()
            total = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(integrations).where(*conditions)
                )
            ).scalar_one()
        return [row_to_integration(r) for r in rows], int(total)

    async def replace(self, integration: Integration, expected_version: int) -> bool:
        try:
            async with self._db.transaction() as conn:
                result = await conn.execute(
                    integrations.update()
                    .where(
                        integrations.c.id == integration.id,
                        integrations.c.tenant_id == integration.tenant_id,
                        integrations.c.version == expected_version,
                        _live,
                    )
                    .values(**_columns(integration))
                )
        except IntegrityError as exc:
            raise _name_clash(exc) from None
        return result.rowcount == 1

    async def soft_delete(self, tenant_id: str, integration_id: str, when: datetime) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                integrations.update()
                .where(
                    integrations.c.id == integration_id,
                    integrations.c.tenant_id == tenant_id,
                    _live,
                )
                .values(
                    delete_time=when,
                    update_time=when,
                    version=integrations.c.version + 1,
                )
            )
        return result.rowcount == 1

    async def append_usage(self, event: UsageEvent) -> tuple[UsageEvent, bool]:
        try:
            async with self._db.transaction() as conn:
                await conn.execute(
                    usage_events.insert().values(
                        id=event.id,
                        tenant_id=event.tenant_id,
                        integration_id=event.integration_id,
                        tokens=event.tokens,
                        cost_cents=event.cost_cents,
                        occurred_at=event.occurred_at,
                        request_id=event.request_id,
                        create_time=event.create_time,
                    )
                )
            return event, True
        except IntegrityError:
            if event.request_id is None:
                raise
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(usage_events).where(
                        usage_events.c.tenant_id == event.tenant_id,
                        usage_events.c.request_id == event.request_id,
                    )
                )
            ).one()
        return UsageEvent(**{k: row._mapping[k] for k in UsageEvent.__slots__}), False

    async def usage_totals(
        self,
        integration_id: str,
        month_start: datetime,
        month_end: datetime,
        window_start: datetime,
    ) -> UsageTotals:
        in_month = sa.and_(
            usage_events.c.occurred_at >= month_start, usage_events.c.occurred_at < month_end
        )
        query = sa.select(
            *_exact_sum(usage_events.c.cost_cents, in_month),
            *_exact_sum(usage_events.c.tokens, in_month),
            sa.func.count().filter(usage_events.c.occurred_at >= window_start),
        ).where(usage_events.c.integration_id == integration_id)
        async with self._db.read() as conn:
            cost_high, cost_low, tokens_high, tokens_low, recent = (
                await conn.execute(query)
            ).one()
        return UsageTotals(
            cost_cents=(int(cost_high) << _HALF_BITS) + int(cost_low),
            tokens=(int(tokens_high) << _HALF_BITS) + int(tokens_low),
            requests_in_window=int(recent),
        )


def _exact_sum(
    column: sa.ColumnElement[int], condition: sa.ColumnElement[bool]
) -> tuple[sa.ColumnElement[int], sa.ColumnElement[int]]:
    """The sum of a non-negative int64 `column` where `condition` holds, as the sums of its high
    and low 32-bit halves: SQLite's sum() fails on int64 overflow, while each half-sum stays
    below 2^63 for fewer than 2^31 rows (PostgreSQL's sum of bigint is numeric anyway)."""
    high = column.op(">>")(sa.literal_column(str(_HALF_BITS)))  # inline: PG has bigint >> int
    low = column.op("&")(sa.literal_column(str(_LOW_MASK)))
    return (
        sa.func.coalesce(sa.func.sum(sa.case((condition, high))), 0),
        sa.func.coalesce(sa.func.sum(sa.case((condition, low))), 0),
    )
