"""SQL implementation of `engines.health.checks.HealthStore`: the latest health on the integration row,
the probe claim (one conditional UPDATE, atomic on SQLite and PostgreSQL) and the probe history."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.integrations.store import row_to_circuit, row_to_integration
from drivers.kernel.database import Database
from drivers.kernel.keyset import page_of
from drivers.tables.health import health_checks
from drivers.tables.integrations import integrations
from engines.health.checks import HealthCheckRecord, HealthCheckResult, HealthHistoryFilters
from engines.health.circuit import CircuitEvent, CircuitState
from engines.integrations.integration import HealthState, Integration, IntegrationStatus
from engines.kernel.pagination import PageRequest

__all__ = ["SqlHealthStore"]

_t = integrations.c
_live = _t.delete_time.is_(None)
_enabled_live = sa.and_(_live, _t.status == IntegrationStatus.ENABLED.value)


def _stale(checked_before: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(_t.health_checked_at.is_(None), _t.health_checked_at < checked_before)


def _probe_targets(checked_before: datetime, due_at: datetime | None) -> list[Any]:
    """Enabled and stale; for a background round (`due_at`) also open circuits, each only once
    its backoff is over."""
    if due_at is None:
        return [_enabled_live, _stale(checked_before)]
    return [
        _live,
        sa.or_(
            _t.status == IntegrationStatus.ENABLED.value, _t.circuit_opened_at.is_not(None)
        ),
        _stale(checked_before),
        sa.or_(_t.health_next_probe_at.is_(None), _t.health_next_probe_at <= due_at),
    ]


def _status_after(event: CircuitEvent, when: datetime | None) -> dict[str, Any]:
    """Status and version changes of a circuit transition (a real change: the etag moves, so an
    EnableIntegration that read the row before it is ABORTED rather than undoing it)."""
    if event is CircuitEvent.OPENED:
        status: Any = IntegrationStatus.ERROR.value
    elif event is CircuitEvent.CLOSED:
        status = sa.case(
            (_t.status == IntegrationStatus.ERROR.value, IntegrationStatus.DISABLED.value),
            else_=_t.status,
        )
    else:
        return {}
    return {"status": status, "version": _t.version + 1, "update_time": when}


def _to_record(row: Any) -> HealthCheckRecord:
    return HealthCheckRecord(
        id=row.id,
        integration_id=row.integration_id,
        health_state=HealthState(row.health_state),
        error_code=row.error_code,
        latency_ms=row.latency_ms,
        checked_at=row.checked_at,
        message=row.message or "",
        circuit_event=CircuitEvent(row.circuit_event or ""),
        consecutive_failures=row.consecutive_failures or 0,
    )


class SqlHealthStore:
    """Health of integrations in the service's database."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction for claims and results, committed without waiting for the WAL flush.

        Atomicity and visibility to other replicas are unchanged; only a PostgreSQL crash in
        the following moment could forget the write, which costs at most one extra probe. Health
        data does not justify an fsync per probe (two per check, on busy disks the bottleneck).
        """
        async with self._db.transaction() as conn:
            if not self._db.is_sqlite:
                await conn.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
            yield conn

    async def claim(
        self,
        tenant_id: str,
        integration_id: str,
        *,
        now: datetime,
        checked_before: datetime | None,
        lease_expired_before: datetime,
    ) -> bool:
        conditions = [
            _t.id == integration_id,
            _t.tenant_id == tenant_id,
            _live,
            sa.or_(_t.health_claimed_at.is_(None), _t.health_claimed_at < lease_expired_before),
        ]
        if checked_before is not None:
            conditions.append(_stale(checked_before))
        # PostgreSQL re-evaluates the WHERE clause on the row a concurrent claimer committed;
        # SQLite serialises writers: either way exactly one claimer sees rowcount 1.
        async with self._write() as conn:
            result = await conn.execute(
                integrations.update().where(*conditions).values(health_claimed_at=now)
            )
        return result.rowcount == 1

    async def release(self, tenant_id: str, integration_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(
                integrations.update()
                .where(_t.id == integration_id, _t.tenant_id == tenant_id)
                .values(health_claimed_at=None)
            )

    async def circuit(self, tenant_id: str, integration_id: str) -> CircuitState:
        query = sa.select(
            _t.health_failures, _t.circuit_opened_at, _t.circuit_reason, _t.health_next_probe_at
        ).where(_t.id == integration_id, _t.tenant_id == tenant_id)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        return CircuitState() if row is None else row_to_circuit(row)

    async def latest(self, tenant_id: str, integration_id: str) -> HealthCheckResult | None:
        query = sa.select(
            _t.health_failures,
            _t.circuit_opened_at,
            _t.circuit_reason,
            _t.health_next_probe_at,
            _t.id,
            _t.name,
            _t.health_state,
            _t.health_message,
            _t.health_latency_ms,
            _t.health_checked_at,
            _t.health_error_code,
        ).where(_t.id == integration_id, _t.tenant_id == tenant_id, _live)
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return HealthCheckResult(
            integration_id=row.id,
            integration_name=row.name,
            health_state=HealthState(row.health_state),
            message=row.health_message,
            latency_ms=row.health_latency_ms or 0,
            checked_at=row.health_checked_at,
            error_code=row.health_error_code or "",
            circuit=row_to_circuit(row),
        )

    async def record(self, tenant_id: str, result: HealthCheckResult) -> None:
        # Health is output only: the version (and so the etag) stays, so a probe never makes
        # a caller's etag stale; only a circuit transition (a status change) moves it.
        circuit = result.circuit
        async with self._write() as conn:
            await conn.execute(
                integrations.update()
                .where(_t.id == result.integration_id, _t.tenant_id == tenant_id)
                .values(
                    health_state=result.health_state.value,
                    health_message=result.message,
                    health_checked_at=result.checked_at,
                    health_latency_ms=result.latency_ms,
                    health_error_code=result.error_code,
                    health_claimed_at=None,
                    health_failures=circuit.consecutive_failures,
                    circuit_opened_at=circuit.opened_at,
                    circuit_reason=circuit.reason or None,
                    health_next_probe_at=circuit.next_probe_at,
                    **_status_after(result.circuit_event, result.checked_at),
                )
            )
            await conn.execute(
                health_checks.insert().values(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant_id,
                    integration_id=result.integration_id,
                    health_state=result.health_state.value,
                    error_code=result.error_code,
                    latency_ms=result.latency_ms,
                    checked_at=result.checked_at,
                    message=result.message,
                    circuit_event=result.circuit_event.value or None,
                    consecutive_failures=circuit.consecutive_failures,
                )
            )

    async def prune_history(
        self, tenant_id: str, before: datetime, integration_id: str | None = None
    ) -> None:
        conditions = [health_checks.c.tenant_id == tenant_id, health_checks.c.checked_at < before]
        if integration_id is not None:
            conditions.append(health_checks.c.integration_id == integration_id)
        async with self._db.transaction() as conn:
            await conn.execute(health_checks.delete().where(*conditions))

    async def stale(
        self, tenant_id: str, checked_before: datetime, due_at: datetime | None = None
    ) -> Sequence[Integration]:
        query = (
            sa.select(integrations)
            .where(_t.tenant_id == tenant_id, *_probe_targets(checked_before, due_at))
            .order_by(_t.create_time, _t.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [row_to_integration(r) for r in rows]

    async def tenants_with_stale(
        self, checked_before: datetime, due_at: datetime | None = None
    ) -> Sequence[str]:
        # The one query across tenants: the background checker's list of whom to check.
        query = (
            sa.select(_t.tenant_id)
            .where(*_probe_targets(checked_before, due_at))
            .distinct()
            .order_by(_t.tenant_id)
        )
        async with self._db.read() as conn:
            return [row.tenant_id for row in (await conn.execute(query)).all()]

    async def counts(
        self, tenant_id: str, checked_before: datetime
    ) -> tuple[Mapping[HealthState, int], int]:
        query = (
            sa.select(
                _t.health_state,
                sa.func.count(),
                sa.func.count().filter(_stale(checked_before)),
            )
            .where(_t.tenant_id == tenant_id, _enabled_live)
            .group_by(_t.health_state)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        counts = {HealthState(state): int(n) for state, n, _ in rows}
        return counts, sum(int(stale) for _, _, stale in rows)

    async def list_checks(
        self, tenant_id: str, filters: HealthHistoryFilters, page: PageRequest
    ) -> tuple[Sequence[HealthCheckRecord], int]:
        h = health_checks.c
        conditions: list[sa.ColumnElement[bool]] = [h.tenant_id == tenant_id]
        if filters.integration_id is not None:
            conditions.append(h.integration_id == filters.integration_id)
        if filters.start_time is not None:
            conditions.append(h.checked_at >= filters.start_time)
        if filters.end_time is not None:
            conditions.append(h.checked_at < filters.end_time)
        if filters.health_state is not None:
            conditions.append(h.health_state == filters.health_state.value)
        rows_query = page_of(
            sa.select(health_checks).where(*conditions),
            health_checks,
            page,
            descending=True,
            time_column=h.checked_at,
        )
        count_query = sa.select(sa.func.count()).select_from(health_checks).where(*conditions)
        async with self._db.read() as conn:
            rows = (await conn.execute(rows_query)).all()
            total = int((await conn.execute(count_query)).scalar_one())
        return [_to_record(row) for row in rows], total

    async def history(
        self, tenant_id: str, integration_id: str
    ) -> Sequence[HealthCheckResult]:
        """The retained probe history of an integration, oldest first (for trends and tests)."""
        query = (
            sa.select(health_checks)
            .where(
                health_checks.c.tenant_id == tenant_id,
                health_checks.c.integration_id == integration_id,
            )
            .order_by(health_checks.c.checked_at)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            HealthCheckResult(
                integration_id=row.integration_id,
                integration_name="",
                health_state=HealthState(row.health_state),
                message="",
                latency_ms=row.latency_ms,
                checked_at=row.checked_at,
                error_code=row.error_code,
            )
            for row in rows
        ]
