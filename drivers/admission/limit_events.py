"""Limit events in SQL (SQLite and PostgreSQL): the writer the admission transaction uses, the
store ListLimitEvents and WatchLimitEvents read, and the in-process broadcast that wakes
watchers (fed on PostgreSQL by LISTEN on `admission_limit_events` too).

Exactly once: the unique key (tenant, integration, limit, model, threshold, period start) and
INSERT ... ON CONFLICT DO NOTHING. Commit order: before inserting, a transaction takes the
tenant's event lock (`pg_advisory_xact_lock`, held to commit; on SQLite the write lock), so a
tenant's sequences grow in the order their transactions commit and a watcher reading
`sequence > cursor` never skips one committed later with a smaller number. The webhook outbox
row is inserted in the same transaction (when the tenant has a webhook)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.kernel.database import Database
from drivers.kernel.repository import TenantRepository
from drivers.tables.admission import (
    admission_limit_events,
    admission_limit_webhooks,
    admission_webhook_outbox,
)
from engines.admission.events import LimitEvent, LimitEventFilter
from engines.admission.limits import LimitKind
from engines.kernel.pagination import PageRequest

__all__ = [
    "LIMIT_EVENTS_CHANNEL",
    "EventBroadcast",
    "LimitEventWriter",
    "SqlLimitEventStore",
    "row_to_event",
]

LIMIT_EVENTS_CHANNEL = "admission_limit_events"
EV, WH, OB = admission_limit_events, admission_limit_webhooks, admission_webhook_outbox
_CROSSING = ["tenant_id", "integration_id", "limit_kind", "model", "threshold_percent",
             "period_start"]
_LOCK = sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(sa.bindparam("key"), 0)))
_NOTIFY = sa.select(sa.func.pg_notify(LIMIT_EVENTS_CHANNEL, sa.bindparam("tenant_id")))


def row_to_event(row: Any) -> LimitEvent:
    return LimitEvent(
        id=row.id,
        tenant_id=row.tenant_id,
        integration_id=row.integration_id,
        kind=LimitKind(row.limit_kind),
        model=row.model,
        threshold_percent=row.threshold_percent,
        period_start=row.period_start,
        period_end=row.period_end,
        used=row.used,
        reserved=row.reserved,
        limit=row.limit_value,
        create_time=row.create_time,
        sequence=row.sequence,
    )


def _values(event: LimitEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "tenant_id": event.tenant_id,
        "integration_id": event.integration_id,
        "limit_kind": event.kind.value,
        "model": event.model,
        "threshold_percent": event.threshold_percent,
        "period_start": event.period_start,
        "period_end": event.period_end,
        "used": event.used,
        "reserved": event.reserved,
        "limit_value": event.limit,
        "create_time": event.create_time,
    }


def _key(event: LimitEvent) -> tuple[str, str, int, datetime]:
    return (event.kind.value, event.model, event.threshold_percent, event.period_start)


class LimitEventWriter:
    """Stores limit events inside a caller's transaction; `stored` is called with the tenant
    after that transaction commits (`notify_committed`)."""

    def __init__(self, database: Database, stored: Callable[[str], None] | None = None) -> None:
        self._db = database
        self._stored = stored
        dialect = sqlite if database.is_sqlite else postgresql
        self._insert = dialect.insert(EV)

    async def write(
        self, conn: AsyncConnection, events: Sequence[LimitEvent]
    ) -> list[LimitEvent]:
        """Those of `events` not stored before, stored now with their sequence (one tenant and
        integration per call); their webhook outbox rows too."""
        if not events:
            return []
        first = events[0]
        existing = await conn.execute(
            sa.select(EV.c.limit_kind, EV.c.model, EV.c.threshold_percent, EV.c.period_start)
            .where(
                EV.c.tenant_id == first.tenant_id,
                EV.c.integration_id == first.integration_id,
                EV.c.period_start.in_(sorted({e.period_start for e in events})),
            )
        )
        known = {tuple(row) for row in existing}
        fresh = [e for e in events if _key(e) not in known]
        if not fresh:
            return []
        if not self._db.is_sqlite:
            await conn.execute(_LOCK, {"key": f"limit-events:{first.tenant_id}"})
        inserted = await conn.execute(
            self._insert.values([_values(e) for e in fresh])
            .on_conflict_do_nothing(index_elements=_CROSSING)
            .returning(EV.c.id, EV.c.sequence)
        )
        sequences = {row.id: row.sequence for row in inserted}
        if not sequences:
            return []
        await conn.execute(
            OB.insert().from_select(
                ["event_id", "tenant_id", "attempts", "next_attempt_time", "last_error"],
                sa.select(EV.c.id, EV.c.tenant_id, sa.literal(0), EV.c.create_time, sa.literal(""))
                .select_from(EV.join(WH, WH.c.tenant_id == EV.c.tenant_id))
                .where(EV.c.id.in_(sorted(sequences))),
            )
        )
        if not self._db.is_sqlite:
            await conn.execute(_NOTIFY, {"tenant_id": first.tenant_id})
        return [replace(e, sequence=sequences[e.id]) for e in fresh if e.id in sequences]

    def notify_committed(self, events: Sequence[LimitEvent]) -> None:
        """Wakes this process's watchers of the tenants of `events` (after the commit)."""
        if self._stored is not None:
            for tenant_id in sorted({e.tenant_id for e in events}):
                self._stored(tenant_id)


def _filter_conditions(which: LimitEventFilter) -> list[Any]:
    return [EV.c.integration_id == which.integration_id] if which.integration_id else []


class SqlLimitEventStore:
    """A tenant's limit events: pages newest first, and the events after a cursor."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._rows = TenantRepository(
            database, EV, row_to_event, resource="limit event", clash=None, newest_first=True
        )

    async def page(
        self, which: LimitEventFilter, page: PageRequest
    ) -> tuple[list[LimitEvent], int]:
        return await self._rows.list(which.tenant_id, page, *_filter_conditions(which))

    async def after(
        self, which: LimitEventFilter, sequence: int, limit: int
    ) -> list[LimitEvent]:
        """Up to `limit` events with a sequence above `sequence`, in sequence order."""
        query = (
            sa.select(EV)
            .where(EV.c.tenant_id == which.tenant_id, EV.c.sequence > sequence,
                   *_filter_conditions(which))
            .order_by(EV.c.sequence)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [row_to_event(row) for row in (await conn.execute(query)).all()]


class EventBroadcast:
    """Wakes subscribers of a tenant (or of every tenant: subscribe with "") on `notify`;
    every wait also ends after `poll_seconds`, the fallback when a notification is lost."""

    def __init__(self, poll_seconds: float) -> None:
        self._poll = poll_seconds
        self._waiters: defaultdict[str, set[asyncio.Event]] = defaultdict(set)

    def notify(self, tenant_id: str, _resource: str = "") -> None:
        for event in (*self._waiters.get(tenant_id, ()), *self._waiters.get("", ())):
            event.set()

    def notify_all(self) -> None:
        for waiters in self._waiters.values():
            for event in waiters:
                event.set()

    async def subscribe(self, tenant_id: str) -> AsyncGenerator[None, None]:
        wake = asyncio.Event()
        self._waiters[tenant_id].add(wake)
        try:
            while True:
                wake.clear()  # before the subscriber reads: a commit during its read wakes it
                yield
                # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancel
                # that lands as the timeout fires, and the subscriber would never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll):
                        await wake.wait()
        finally:
            self._waiters[tenant_id].discard(wake)
            if not self._waiters[tenant_id]:
                del self._waiters[tenant_id]
