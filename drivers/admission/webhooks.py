"""Webhooks for limit events in SQL, and their HTTP sender: tenants' webhooks
(`admission_limit_webhooks`), the transactional outbox (`admission_webhook_outbox`, whose rows
the admission transaction inserts with the events, drivers/admission/limit_events.py) and
POSTs through the egress guard.

Claiming on PostgreSQL is `UPDATE ... WHERE event_id IN (SELECT ... FOR UPDATE SKIP LOCKED)`:
replicas claiming at once get disjoint rows, and each claimed row's next attempt moves a lease
ahead, so no other replica takes it while its POST is in flight. SQLite is one process, and
its writers take turns anyway."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa

from drivers.admission.limit_events import row_to_event
from drivers.egress.guard import EgressGuard, guarded_http_client
from drivers.kernel.database import Database
from drivers.tables.admission import (
    admission_limit_events,
    admission_limit_webhooks,
    admission_webhook_outbox,
)
from engines.admission.webhooks import Claimed, LimitWebhook, SendResult
from engines.egress.policy import EgressDenied

__all__ = ["HttpWebhookSender", "SqlLimitWebhookStore", "SqlWebhookOutbox"]

EV, WH, OB = admission_limit_events, admission_limit_webhooks, admission_webhook_outbox


def _webhook(row: Any) -> LimitWebhook:
    return LimitWebhook(row.tenant_id, row.url, row.secret_ref, row.update_time)


class SqlLimitWebhookStore:
    """One webhook per tenant."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, tenant_id: str) -> LimitWebhook | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(WH).where(WH.c.tenant_id == tenant_id))).first()
        return _webhook(row) if row is not None else None

    async def _current_ref(self, conn: Any, tenant_id: str) -> str | None:
        query = sa.select(WH.c.secret_ref).where(WH.c.tenant_id == tenant_id)
        if not self._db.is_sqlite:
            query = query.with_for_update()
        found = (await conn.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def put(self, webhook: LimitWebhook) -> str:
        values = {"url": webhook.url, "secret_ref": webhook.secret_ref,
                  "update_time": webhook.update_time}
        async with self._db.transaction() as conn:
            replaced = await self._current_ref(conn, webhook.tenant_id)
            if replaced is None:
                # A concurrent first create of the same tenant fails on the primary key (retry).
                await conn.execute(WH.insert().values(tenant_id=webhook.tenant_id, **values))
                return ""
            await conn.execute(WH.update().where(WH.c.tenant_id == webhook.tenant_id).values(values))
            return replaced

    async def delete(self, tenant_id: str) -> str:
        async with self._db.transaction() as conn:
            replaced = await self._current_ref(conn, tenant_id)
            if replaced is None:
                return ""
            await conn.execute(WH.delete().where(WH.c.tenant_id == tenant_id))
            return replaced


class SqlWebhookOutbox:
    """Undelivered events of tenants with a webhook."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, max_attempts: int
    ) -> list[Claimed]:
        due = (
            sa.select(OB.c.event_id)
            .where(
                OB.c.delivered_time.is_(None),
                OB.c.attempts < max_attempts,
                OB.c.next_attempt_time <= now,
            )
            .order_by(OB.c.next_attempt_time)
            .limit(limit)
        )
        if not self._db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        async with self._db.transaction() as conn:
            claimed = (await conn.execute(
                OB.update()
                .where(OB.c.event_id.in_(due.scalar_subquery()))
                .values(attempts=OB.c.attempts + 1, next_attempt_time=now + lease)
                .returning(OB.c.event_id, OB.c.attempts)
            )).all()
            if not claimed:
                return []
            attempts = {row.event_id: row.attempts for row in claimed}
            rows = (await conn.execute(
                sa.select(EV, WH.c.url.label("webhook_url"), WH.c.secret_ref)
                .select_from(EV.outerjoin(WH, WH.c.tenant_id == EV.c.tenant_id))
                .where(EV.c.id.in_(sorted(attempts)))
                .order_by(EV.c.sequence)
            )).all()
        return [
            Claimed(row_to_event(row), attempts[row.id], row.webhook_url or "",
                    row.secret_ref or "")
            for row in rows
        ]

    async def delivered(self, event_id: str, now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                OB.update().where(OB.c.event_id == event_id)
                .values(delivered_time=now)  # last_error stays: why earlier attempts failed
            )

    async def failed(self, event_id: str, next_attempt: datetime, error: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                OB.update().where(OB.c.event_id == event_id)
                .values(next_attempt_time=next_attempt, last_error=error[:512])
            )


class HttpWebhookSender:
    """POSTs with one pooled client that connects only where the egress guard allows and
    follows no redirect; close with `aclose()`."""

    def __init__(self, egress: EgressGuard, *, timeout_seconds: float = 10.0) -> None:
        self._client = guarded_http_client(
            egress, timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=32),
        )

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        try:
            response = await self._client.post(url, content=body, headers=dict(headers))
        except EgressDenied as exc:
            return SendResult(0, exc.message)
        except httpx.TimeoutException:
            return SendResult(0, "timed out")
        except httpx.HTTPError as exc:
            # The class and the transport's text only; never the request (its headers).
            return SendResult(0, f"{type(exc).__name__}: {str(exc)[:200]}")
        return SendResult(response.status_code)

    async def aclose(self) -> None:
        await self._client.aclose()
