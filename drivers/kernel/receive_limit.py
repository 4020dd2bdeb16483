"""A byte limit on what one database connection receives, so a result made of a few huge rows
costs the SQL gateway about its byte cap in memory, not the size of the rows.

asyncpg reads a whole batch of rows (and a whole row) before handing any of it over, so the
limit sits below it: between the connection's transport and asyncpg's protocol. Once armed and
exceeded it stops passing data on and aborts the connection (the server then cancels the query
and rolls its transaction back); the caller sees the aborted fetch and `exceeded` set.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["ReceiveLimit"]


class ReceiveLimit(asyncio.Protocol):
    """Forwards a transport's events to the protocol it replaced, counting received bytes."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._inner: Any = transport.get_protocol()
        self._limit: int | None = None
        self._received = 0
        self.exceeded = False
        transport.set_protocol(self)

    def arm(self, limit: int) -> None:
        """Counts from now on; past `limit` bytes the connection is aborted."""
        self._limit, self._received, self.exceeded = limit, 0, False

    def disarm(self) -> None:
        self._limit = None

    def data_received(self, data: bytes) -> None:
        if self._limit is not None:
            self._received += len(data)
            if self._received > self._limit:
                if not self.exceeded:
                    self.exceeded = True
                    self._transport.abort()
                return
        self._inner.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received()
        return result

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()
