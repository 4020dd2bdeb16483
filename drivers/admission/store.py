"""SQL implementation of `engines.admission.control.AdmissionStore` (SQLite and PostgreSQL).

Exactness: every admission of an integration runs in one transaction that first takes the
integration's lock, then aggregates used and reserved in ONE statement (one snapshot), decides
and inserts the reservation. On PostgreSQL the lock is `pg_advisory_xact_lock`, shared by every
replica and released at commit, so the next admission's aggregate sees this one's reservation.
Within a process an asyncio.Lock per integration comes first, so queued admissions do not hold
pooled connections; on SQLite (one process) that is the whole lock. Settles need no lock: they flip
the reservation and insert the usage event in one transaction, which any single-statement
aggregate sees entirely or not at all. Expired reservations become EXPIRED usage events through
a conditional UPDATE ... RETURNING, so each is converted exactly once whoever sweeps.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.admission.limit_events import LimitEventWriter
from drivers.integrations.store import row_to_integration
from drivers.kernel.database import Database
from drivers.tables.admission import (
    admission_policies,
    admission_reservations,
    admission_usage_totals,
)
from drivers.tables.integrations import integrations, usage_events
from engines.admission.control import (
    AdmitOutcome,
    BatchStatus,
    CallOutcome,
    GroupBy,
    Planner,
    RecordBuilder,
    Reservation,
    ReservationState,
    SettleOutcome,
    SummaryRow,
    UsageRecord,
)
from engines.admission.limits import (
    AdmissionPolicy,
    AdmissionWindow,
    CallEstimate,
    Counters,
    Verdict,
)
from engines.kernel.errors import FailedPrecondition

__all__ = ["SqlAdmissionStore"]

E, R, P = usage_events, admission_reservations, admission_policies
T = admission_usage_totals
_OPEN = ReservationState.OPEN.value
_IN_CHUNK = 500  # ids per IN (...) list, below SQLite's variable limit
_bp = sa.bindparam


def _sum(column: Any, *conditions: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(column).filter(*conditions), 0)


def _aggregate_statement() -> sa.Select[Any]:
    """Every counter of one integration in one statement (one snapshot): the month from its
    totals row, the sliding minute from the events in it, and the reservations that are open or
    were made within the minute, so its cost does not grow with the month's events."""
    iid: Any = _bp("integration_id")
    now: Any = _bp("now")
    ws: Any = _bp("window_start")
    ps: Any = _bp("period_start")
    pe: Any = _bp("period_end")
    unreserved = E.c.reservation_id.is_(None)
    events = (
        sa.select(
            sa.func.count().filter(unreserved).label("e_requests"),
            sa.func.min(E.c.occurred_at).filter(unreserved).label("e_oldest"),
            sa.func.coalesce(sa.func.sum(E.c.tokens), 0).label("e_window_tokens"),
            sa.func.min(E.c.occurred_at).filter(E.c.tokens > 0).label("e_oldest_tokens"),
        )
        .where(E.c.integration_id == iid, E.c.occurred_at >= ws)
        .subquery("e")
    )
    month = (
        sa.select(
            sa.func.coalesce(sa.func.sum(T.c.cost_cents), 0).label("m_cost"),
            sa.func.coalesce(sa.func.sum(T.c.tokens), 0).label("m_tokens"),
        )
        .where(T.c.integration_id == iid, T.c.period_start == ps)
        .subquery("m")
    )
    is_open = R.c.state == _OPEN
    expired = sa.and_(is_open, R.c.expire_time <= now)
    live = sa.and_(is_open, R.c.expire_time > now)
    admitted = sa.and_(R.c.create_time >= ws, R.c.state != ReservationState.RELEASED.value)
    estimate = R.c.estimated_input_tokens + R.c.estimated_output_tokens
    held = (
        sa.select(
            _sum(R.c.estimated_cost_cents, expired, R.c.expire_time >= ps, R.c.expire_time < pe)
            .label("x_cost"),
            _sum(estimate, expired, R.c.expire_time >= ps, R.c.expire_time < pe).label("x_tokens"),
            _sum(estimate, expired, R.c.expire_time >= ws).label("x_window_tokens"),
            sa.func.count().filter(expired).label("x_count"),
            _sum(R.c.estimated_cost_cents, live).label("r_cost"),
            _sum(estimate, live).label("r_tokens"),
            sa.func.count().filter(live).label("r_open"),
            sa.func.count().filter(admitted).label("r_requests"),
            sa.func.min(R.c.create_time).filter(admitted).label("r_oldest"),
        )
        .where(R.c.integration_id == iid, sa.or_(is_open, R.c.create_time >= ws))
        .subquery("r")
    )
    earlier = R.alias("earlier")
    earlier_columns = [c.label(f"earlier_{c.name}") for c in earlier.c]
    return sa.select(events, month, held, *earlier_columns).select_from(
        events.join(month, sa.true()).join(held, sa.true()).outerjoin(
            earlier,
            sa.and_(earlier.c.tenant_id == _bp("tenant_id"), earlier.c.call_id == _bp("call_id")),
        )
    )


_AGGREGATE = _aggregate_statement()
_INSERT_RESERVATION = R.insert()
_INSERT_EVENT = E.insert()


def _integration_statement(with_lock: bool) -> sa.Select[Any]:
    """The live integration and its policy; on PostgreSQL the row also takes the lock."""
    columns: list[Any] = [integrations, P.c.tokens_per_minute, P.c.max_parallel_calls,
                          P.c.reservation_ttl_ms, P.c.warn_percent,
                          P.c.update_time.label("policy_update_time")]
    if with_lock:
        columns.append(
            sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(_bp("lock_key"), 0))
        )
    return (
        sa.select(*columns)
        .select_from(integrations.outerjoin(P, P.c.integration_id == integrations.c.id))
        .where(
            integrations.c.tenant_id == _bp("tenant_id"),
            integrations.c.id == _bp("integration_id"),
            integrations.c.delete_time.is_(None),
        )
    )


_INTEGRATION = {True: _integration_statement(True), False: _integration_statement(False)}


def _policy_of(integration_id: str, row: Any) -> AdmissionPolicy:
    if row.reservation_ttl_ms is None:
        return AdmissionPolicy(integration_id=integration_id)
    return AdmissionPolicy(
        integration_id=integration_id,
        tokens_per_minute=row.tokens_per_minute,
        max_parallel_calls=row.max_parallel_calls,
        reservation_ttl=timedelta(milliseconds=row.reservation_ttl_ms),
        warn_percent=row.warn_percent,
        update_time=row.policy_update_time,
    )


def _reservation(values: Any) -> Reservation:
    return Reservation(
        id=values["id"],
        tenant_id=values["tenant_id"],
        integration_id=values["integration_id"],
        call_id=values["call_id"],
        model=values["model"],
        estimated_input_tokens=values["estimated_input_tokens"],
        estimated_output_tokens=values["estimated_output_tokens"],
        estimated_cost_cents=values["estimated_cost_cents"],
        verdict=Verdict(values["verdict"]),
        state=ReservationState(values["state"]),
        create_time=values["create_time"],
        expire_time=values["expire_time"],
    )


def _reservation_values(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.id,
        "tenant_id": reservation.tenant_id,
        "integration_id": reservation.integration_id,
        "call_id": reservation.call_id,
        "model": reservation.model,
        "estimated_input_tokens": reservation.estimated_input_tokens,
        "estimated_output_tokens": reservation.estimated_output_tokens,
        "estimated_cost_cents": reservation.estimated_cost_cents,
        "verdict": reservation.verdict.value,
        "state": reservation.state.value,
        "create_time": reservation.create_time,
        "expire_time": reservation.expire_time,
    }


def _record_values(record: UsageRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "tenant_id": record.tenant_id,
        "integration_id": record.integration_id,
        "tokens": record.tokens,
        "cost_cents": record.cost_cents,
        "occurred_at": record.occurred_at,
        "request_id": None,
        "create_time": record.create_time,
        "call_id": record.call_id,
        "reservation_id": record.reservation_id,
        "model": record.model,
        "input_tokens": record.input_tokens,
        "output_tokens": record.output_tokens,
        "latency_ms": record.latency_ms,
        "outcome": record.outcome.value,
        "error_code": record.error_code,
        "session_id": record.session_id,
        "agent_id": record.agent_id,
        "policy_result": record.policy_result.value if record.policy_result else None,
        "call_metadata": dict(record.metadata) or None,
    }


def _record(row: Any) -> UsageRecord:
    return UsageRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        integration_id=row.integration_id,
        call_id=row.call_id,
        reservation_id=row.reservation_id,
        model=row.model,
        input_tokens=row.input_tokens,
        output_tokens=row.output_tokens,
        cost_cents=row.cost_cents,
        latency_ms=row.latency_ms,
        outcome=CallOutcome(row.outcome),
        error_code=row.error_code,
        session_id=row.session_id,
        agent_id=row.agent_id,
        policy_result=Verdict(row.policy_result) if row.policy_result else None,
        metadata=row.call_metadata or {},
        occurred_at=row.occurred_at,
        create_time=row.create_time,
    )


def _expired_record(row: Any, now: datetime) -> dict[str, Any]:
    """The usage event an unsettled reservation becomes: its estimate, counted at expiry."""
    return _record_values(UsageRecord(
        id=row.id,  # one event per reservation, so the reservation's id serves
        tenant_id=row.tenant_id,
        integration_id=row.integration_id,
        call_id=row.call_id,
        reservation_id=row.id,
        model=row.model,
        input_tokens=row.estimated_input_tokens,
        output_tokens=row.estimated_output_tokens,
        cost_cents=row.estimated_cost_cents,
        outcome=CallOutcome.EXPIRED,
        policy_result=Verdict(row.verdict),
        occurred_at=row.expire_time,
        create_time=now,
    ))


async def _expire(conn: AsyncConnection, condition: Any, now: datetime, insert: Any) -> int:
    """Turns open reservations past expiry that match `condition` into usage events. `insert`
    ignores conflicts: when RecordUsageBatch already stored an event under the call_id, that
    event is the call's usage and the estimate is not added on top."""
    expired = (
        await conn.execute(
            R.update()
            .where(condition, R.c.state == _OPEN, R.c.expire_time <= now)
            .values(state=ReservationState.EXPIRED.value)
            .returning(*R.c)
        )
    ).all()
    if expired:
        # In integration order, so concurrent sweeps lock the totals rows in the same order.
        ordered = sorted(expired, key=lambda row: (row.integration_id, row.id))
        await conn.execute(insert, [_expired_record(row, now) for row in ordered])
    return len(expired)


def _day(dialect: str) -> Any:
    if dialect == "sqlite":  # UtcDateTime stores a fixed-width UTC ISO string
        return sa.func.substr(E.c.occurred_at, 1, 10)
    return sa.func.to_char(sa.func.timezone("UTC", E.c.occurred_at), "YYYY-MM-DD")


class SqlAdmissionStore:
    """Reservations, usage events and admission policies in the service's database."""

    def __init__(self, database: Database, events: LimitEventWriter | None = None) -> None:
        self._db = database
        self._events = events or LimitEventWriter(database)
        self._local_locks: dict[str, asyncio.Lock] = {}
        self._insert_events = self._insert(E).on_conflict_do_nothing()

    @contextlib.asynccontextmanager
    async def _locked(self, integration_id: str) -> AsyncIterator[AsyncConnection]:
        """A transaction holding the integration's admission lock. Within the process an
        asyncio.Lock queues admissions before they take a pooled connection (on SQLite, one
        process, that is the whole lock); on PostgreSQL the first statement,
        `_INTEGRATION[True]`, then takes the advisory lock shared with the other replicas."""
        lock = self._local_locks.setdefault(integration_id, asyncio.Lock())
        async with lock, self._db.transaction() as conn:
            yield conn

    async def admit(
        self, estimate: CallEstimate, window: AdmissionWindow, plan: Planner
    ) -> AdmitOutcome | None:
        async with self._locked(estimate.integration_id) as conn:
            found = (
                await conn.execute(
                    _INTEGRATION[not self._db.is_sqlite],
                    {
                        "tenant_id": estimate.tenant_id,
                        "integration_id": estimate.integration_id,
                        "lock_key": f"admission:{estimate.integration_id}",
                    },
                )
            ).first()
            if found is None:
                return None
            integration = row_to_integration(found)
            policy = _policy_of(integration.id, found)
            row = (
                await conn.execute(
                    _AGGREGATE,
                    {
                        "integration_id": integration.id,
                        "tenant_id": estimate.tenant_id,
                        "call_id": estimate.call_id,
                        "now": window.now,
                        "window_start": window.window_start,
                        "period_start": window.period_start,
                        "period_end": window.period_end,
                    },
                )
            ).one()
            counters = _counters(row)
            earlier = None
            if row.earlier_id is not None:
                earlier = _reservation({c.name: row._mapping[f"earlier_{c.name}"] for c in R.c})
            planned = plan(integration, policy, counters, earlier)
            reservation = planned.reservation
            if row.x_count:
                await _expire(
                    conn, R.c.integration_id == integration.id, window.now, self._insert_events
                )
            replayed = reservation is not None and reservation is earlier
            if reservation is not None and not replayed:
                await conn.execute(_INSERT_RESERVATION, _reservation_values(reservation))
            events = await self._events.write(conn, planned.events)
        self._events.notify_committed(events)
        return AdmitOutcome(
            integration, policy, counters, planned.decision, reservation, replayed, tuple(events)
        )

    async def release(self, reservation: Reservation) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                R.update()
                .where(R.c.id == reservation.id, R.c.state == _OPEN)
                .values(state=ReservationState.RELEASED.value)
            )

    async def settle(
        self,
        tenant_id: str,
        call_id: str,
        reservation_id: str,
        record: RecordBuilder,
        now: datetime,
    ) -> SettleOutcome | None:
        which = sa.and_(
            R.c.tenant_id == tenant_id,
            R.c.id == reservation_id if reservation_id else R.c.call_id == call_id,
        )
        try:
            async with self._db.transaction() as conn:
                flipped = (
                    await conn.execute(
                        R.update()
                        .where(which, R.c.state == _OPEN, R.c.expire_time > now)
                        .values(state=ReservationState.SETTLED.value, settle_time=now)
                        .returning(*R.c)
                    )
                ).first()
                if flipped is not None:
                    reservation = _reservation(flipped._mapping)
                    usage = record(reservation)
                    await conn.execute(_INSERT_EVENT, _record_values(usage))
                    return SettleOutcome(reservation, usage, True)
        except IntegrityError:
            raise FailedPrecondition(
                "CALL_ID_CONFLICT",
                "a usage event with this call_id was recorded by RecordUsageBatch",
                metadata={"call_id": call_id},
            ) from None
        async with self._db.read() as conn:  # not open: settled before, expired, or unknown
            found = (await conn.execute(sa.select(R).where(which))).first()
            if found is None:
                return None
            earlier = (
                await conn.execute(sa.select(E).where(E.c.reservation_id == found.id))
            ).first()
        reservation = _reservation(found._mapping)
        if found.state == ReservationState.SETTLED.value and earlier is not None:
            return SettleOutcome(reservation, _record(earlier), False)
        raise FailedPrecondition(
            "RESERVATION_EXPIRED",
            "the reservation expired (or was released) before it was settled; its estimate "
            "counts as used",
            metadata={"call_id": reservation.call_id},
        )

    async def expire_due(self, tenant_id: str, now: datetime) -> int:
        async with self._db.transaction() as conn:
            return await _expire(conn, R.c.tenant_id == tenant_id, now, self._insert_events)

    async def owned_integrations(self, tenant_id: str, ids: Sequence[str]) -> set[str]:
        owned: set[str] = set()
        async with self._db.read() as conn:
            for start in range(0, len(ids), _IN_CHUNK):
                chunk = ids[start:start + _IN_CHUNK]
                rows = await conn.execute(
                    sa.select(integrations.c.id).where(
                        integrations.c.tenant_id == tenant_id,
                        integrations.c.id.in_(chunk),
                        integrations.c.delete_time.is_(None),
                    )
                )
                owned.update(r.id for r in rows)
        return owned

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert(table) if self._db.is_sqlite else postgresql.insert(table))

    async def record_batch(
        self, records: Sequence[UsageRecord]
    ) -> list[tuple[BatchStatus, UsageRecord]]:
        tenant_id = records[0].tenant_id
        call_ids = sorted({r.call_id for r in records if r.call_id})
        stored: dict[str, UsageRecord] = {}
        async with self._db.transaction() as conn:
            # In integration order, so concurrent batches lock the totals rows in the same order.
            ordered = sorted(records, key=lambda r: (r.integration_id, r.occurred_at))
            await conn.execute(
                self._insert(E).on_conflict_do_nothing(), [_record_values(r) for r in ordered]
            )
            for start in range(0, len(call_ids), _IN_CHUNK):
                rows = await conn.execute(
                    sa.select(E).where(
                        E.c.tenant_id == tenant_id,
                        E.c.call_id.in_(call_ids[start:start + _IN_CHUNK]),
                    )
                )
                stored.update((row.call_id, _record(row)) for row in rows)
        results = []
        for record in records:
            found = stored[record.call_id or ""]
            status = BatchStatus.RECORDED if found.id == record.id else BatchStatus.DUPLICATE
            results.append((status, found))
        return results

    async def summary(
        self,
        tenant_id: str,
        integration_id: str | None,
        start: datetime,
        end: datetime,
        group_by: Sequence[GroupBy],
    ) -> list[SummaryRow]:
        dimensions = {
            GroupBy.DAY: _day(self._db.dialect).label("day"),
            GroupBy.MODEL: E.c.model.label("model"),
            GroupBy.INTEGRATION: E.c.integration_id.label("integration_id"),
        }
        keys = [dimensions[g] for g in GroupBy if g in group_by]
        conditions = [E.c.tenant_id == tenant_id, E.c.occurred_at >= start, E.c.occurred_at < end]
        if integration_id is not None:
            conditions.append(E.c.integration_id == integration_id)
        failed = E.c.outcome.in_([CallOutcome.ERROR.value, CallOutcome.TIMEOUT.value])
        query = (
            sa.select(
                *keys,
                sa.func.count().label("requests"),
                sa.func.coalesce(sa.func.sum(E.c.input_tokens), 0).label("input_tokens"),
                sa.func.coalesce(sa.func.sum(E.c.output_tokens), 0).label("output_tokens"),
                sa.func.coalesce(sa.func.sum(E.c.tokens), 0).label("tokens"),
                sa.func.coalesce(sa.func.sum(E.c.cost_cents), 0).label("cost_cents"),
                sa.func.count().filter(failed).label("errors"),
            )
            .where(*conditions)
            .group_by(*keys)
            .order_by(*keys)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [SummaryRow(**_summary_fields(r)) for r in rows if r.requests or keys]

    async def get_policy(self, tenant_id: str, integration_id: str) -> AdmissionPolicy | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(P, P.c.update_time.label("policy_update_time")).where(
                        P.c.tenant_id == tenant_id, P.c.integration_id == integration_id
                    )
                )
            ).first()
        return _policy_of(integration_id, row) if row else None

    async def put_policy(self, tenant_id: str, policy: AdmissionPolicy) -> AdmissionPolicy:
        values = {
            "tokens_per_minute": policy.tokens_per_minute,
            "max_parallel_calls": policy.max_parallel_calls,
            "reservation_ttl_ms": policy.reservation_ttl // timedelta(milliseconds=1),
            "warn_percent": policy.warn_percent,
            "update_time": policy.update_time,
        }
        statement = self._insert(P).values(
            integration_id=policy.integration_id, tenant_id=tenant_id, **values
        )
        async with self._db.transaction() as conn:
            await conn.execute(
                statement.on_conflict_do_update(index_elements=[P.c.integration_id], set_=values)
            )
        return policy


def _summary_fields(row: Any) -> dict[str, Any]:
    return {k: (v if isinstance(v, str) else int(v)) for k, v in row._mapping.items()}


def _counters(row: Any) -> Counters:
    oldest = [t for t in (row.e_oldest, row.r_oldest) if t is not None]
    return Counters(
        cost_used=int(row.m_cost) + int(row.x_cost),
        cost_reserved=int(row.r_cost),
        tokens_used=int(row.m_tokens) + int(row.x_tokens),
        tokens_reserved=int(row.r_tokens),
        requests_in_window=int(row.e_requests) + int(row.r_requests),
        oldest_request=min(oldest) if oldest else None,
        tokens_in_window=int(row.e_window_tokens) + int(row.x_window_tokens),
        oldest_tokens=row.e_oldest_tokens,
        open_reservations=int(row.r_open),
    )
