"""Cross-replica invalidation of in-process caches: a dedicated asyncpg connection LISTENs on a
channel that a table's trigger notifies on commit (integrations: migration 0017; SQL templates
and gateways: 0023), with the row's `tenant_id/id` as payload.

While the connection is down the cache cannot hear of other replicas' writes: the listener clears
it on every (re)connect, and the cache's TTL bounds staleness until then."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

__all__ = ["INTEGRATIONS_CHANNEL", "SQL_GATEWAY_CHANNEL", "PostgresInvalidationListener"]

INTEGRATIONS_CHANNEL = "integrations_changed"
SQL_GATEWAY_CHANNEL = "sql_gateway_changed"  # templates and gateways (migration 0023)

log = logging.getLogger("integrations.cache")


class PostgresInvalidationListener:
    """Calls `invalidate(tenant_id, resource_id)` for each notification on `channel`, and
    `clear()` whenever notifications may have been missed (on every connect)."""

    def __init__(
        self,
        database_url: str,
        invalidate: Callable[[str, str], None],
        clear: Callable[[], None],
        *,
        channel: str = INTEGRATIONS_CHANNEL,
        retry_seconds: float = 1.0,
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._invalidate = invalidate
        self._clear = clear
        self._channel = channel
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"listener-{self._channel}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        tenant_id, _, resource_id = payload.partition("/")
        self._invalidate(tenant_id, resource_id)

    def _terminated(self, _conn: Any) -> None:
        self.connected.clear()
        self._lost.set()

    async def _run(self) -> None:
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5)
                self._lost.clear()
                conn.add_termination_listener(self._terminated)
                await conn.add_listener(self._channel, self._notified)
                self._clear()  # writes made while not listening were not heard
                self.connected.set()
                await self._lost.wait()
                log.warning("listener on channel %s lost its connection; reconnecting", self._channel)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("listener on channel %s cannot connect: %s", self._channel, exc)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            self._clear()
            await asyncio.sleep(self._retry)
