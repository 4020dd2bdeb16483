"""SQL implementation of `engines.integrations.integration.IntegrationStore` (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.kernel.database import Database
from drivers.kernel.repository import RepositoryStore, TenantRepository
from drivers.tables.integrations import integrations, usage_events
from engines.admission.events import LimitEvent
from engines.health.circuit import CircuitState
from engines.integrations.integration import (
    RESOURCE,
    HealthState,
    Integration,
    IntegrationFilters,
    IntegrationStatus,
    ProviderType,
    UsageEvent,
    UsageTotals,
)
from engines.kernel.idempotency import IdempotencyKey
from engines.kernel.pagination import PageRequest

__all__ = [
    "LimitEventRaiser",
    "SqlIntegrationStore",
    "exact_sum",
    "from_halves",
    "row_to_circuit",
    "row_to_integration",
]

_HALF_BITS = 32
_LOW_MASK = (1 << _HALF_BITS) - 1


def row_to_integration(row: Any) -> Integration:
    """The engine dataclass of an `integrations` row."""
    return Integration(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        provider_type=ProviderType(row.provider_type),
        credential_ref=row.credential_ref,
        config=_config(row.config),
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
        circuit=row_to_circuit(row),
    )


def _config(value: Any) -> Any:
    """The config column: decoded already, or as text (`_LISTED`, which selects it as text)."""
    return (json.loads(value) if isinstance(value, str) else value) or {}


# The integrations store's own reads select config as text: every value of a row is then
# hashable, so the repository hands out the same Integration for an unchanged row (and the
# servicer encodes it once). The probe's working columns, which no Integration field shows,
# are left out: a probe's claim then does not make a new one.
_PROBE_ONLY = frozenset({"health_latency_ms", "health_error_code", "health_claimed_at"})
_LISTED = sa.select(
    *(
        sa.cast(c, sa.Text).label(c.name) if c.name == "config" else c
        for c in integrations.c
        if c.name not in _PROBE_ONLY
    )
).select_from(integrations)
REMEMBERED_ROWS = 4096
# List filters, compared with bound parameters: the list statements are built once.
_BY_STATUS = integrations.c.status == sa.bindparam("status")
_BY_PROVIDER = integrations.c.provider_type == sa.bindparam("provider_type")


def row_to_circuit(row: Any) -> CircuitState:
    """The circuit columns of an `integrations` row."""
    return CircuitState(
        consecutive_failures=row.health_failures or 0,
        opened_at=row.circuit_opened_at,
        reason=row.circuit_reason or "",
        next_probe_at=row.health_next_probe_at,
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


def _to_usage_event(row: Any) -> UsageEvent:
    return UsageEvent(**{k: row._mapping[k] for k in UsageEvent.__slots__})


class LimitEventRaiser(Protocol):
    """Limit events of usage written in a transaction (`SqlAdmissionStore` implements it)."""

    async def raise_limit_events(
        self,
        conn: AsyncConnection,
        tenant_id: str,
        integration_id: str,
        models: Collection[str],
        now: datetime,
    ) -> list[LimitEvent]: ...

    def notify_committed(self, events: Sequence[LimitEvent]) -> None: ...


class SqlIntegrationStore(RepositoryStore[Integration]):
    """Integrations and usage events in the service's database; with `limit_events`, usage
    appended with `check_limits` raises the limit events it makes reached (without it, in
    tests only, it raises none)."""

    def __init__(self, database: Database, limit_events: LimitEventRaiser | None = None) -> None:
        self._db = database
        self._limit_events = limit_events
        self._rows = TenantRepository(
            database,
            integrations,
            row_to_integration,
            resource=RESOURCE,
            clash="an integration with this name already exists for the tenant",
            select=_LISTED,
            remember=REMEMBERED_ROWS,
        )
        self._usage = TenantRepository(
            database, usage_events, _to_usage_event, resource="usage event", clash=None
        )

    async def insert(self, integration: Integration, key: IdempotencyKey | None) -> Integration:
        values = _columns(integration) | {
            "id": integration.id,
            "tenant_id": integration.tenant_id,
            "created_by": integration.created_by,
            "create_time": integration.create_time,
            # Health is written only by drivers/health/store.py after a probe; an update that
            # read the row before a probe finished must not put the old health back.
            "health_state": integration.health_state.value,
            "health_message": integration.health_message,
            "health_checked_at": integration.health_checked_at,
        }
        return await self._rows.insert(integration, values, key)

    async def list(
        self, tenant_id: str, filters: IntegrationFilters, page: PageRequest
    ) -> tuple[Sequence[Integration], int]:
        conditions, values = [], {}
        if filters.status is not None:
            conditions.append(_BY_STATUS)
            values["status"] = filters.status.value
        if filters.provider_type is not None:
            conditions.append(_BY_PROVIDER)
            values["provider_type"] = filters.provider_type.value
        return await self._rows.list(tenant_id, page, *conditions, values=values)

    async def replace(self, integration: Integration, expected_version: int) -> bool:
        return await self._rows.update(
            integration.tenant_id, integration.id, expected_version, _columns(integration)
        )

    async def soft_delete(self, tenant_id: str, integration_id: str, when: datetime) -> bool:
        return await self._rows.soft_delete(tenant_id, integration_id, when)

    async def append_usage(
        self, event: UsageEvent, key: IdempotencyKey | None, *, check_limits: bool = False
    ) -> tuple[UsageEvent, bool]:
        values = {
            "id": event.id,
            "tenant_id": event.tenant_id,
            "integration_id": event.integration_id,
            "tokens": event.tokens,
            "cost_cents": event.cost_cents,
            "occurred_at": event.occurred_at,
            "create_time": event.create_time,
        }
        raiser = self._limit_events if check_limits else None
        raised: list[LimitEvent] = []

        async def limit_events(conn: AsyncConnection) -> None:
            assert raiser is not None
            raised.extend(await raiser.raise_limit_events(
                conn, event.tenant_id, event.integration_id, [""], event.create_time
            ))

        stored = await self._usage.insert(
            event, values, key, after=limit_events if raiser is not None else None
        )
        if raiser is not None and stored is event:
            raiser.notify_committed(raised)
        return stored, stored is event

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
            *exact_sum(usage_events.c.cost_cents, in_month),
            *exact_sum(usage_events.c.tokens, in_month),
            sa.func.count().filter(usage_events.c.occurred_at >= window_start),
        ).where(usage_events.c.integration_id == integration_id)
        async with self._db.read() as conn:
            cost_high, cost_low, tokens_high, tokens_low, recent = (
                await conn.execute(query)
            ).one()
        return UsageTotals(
            cost_cents=from_halves(cost_high, cost_low),
            tokens=from_halves(tokens_high, tokens_low),
            requests_in_window=int(recent),
        )


def from_halves(high: Any, low: Any) -> int:
    """The sum `exact_sum` gave as its two half-sums."""
    return (int(high) << _HALF_BITS) + int(low)


def exact_sum(
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
