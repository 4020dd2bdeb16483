"""A minimal asyncio HTTP/1.1 endpoint serving `GET /metrics` in the Prometheus text format.

It runs on the server's own event loop (no thread, no web framework), answers one request per
connection, and reads at most a few KiB of request head, so a scraper cannot hold it up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST

__all__ = ["MetricsEndpoint"]

log = logging.getLogger("integrations.metrics")

_MAX_HEAD_BYTES = 8192
_READ_TIMEOUT_SECONDS = 5.0


def _split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"--metrics-listen {listen!r}: expected HOST:PORT (port 0 picks one)")
    return host.strip("[]") or "0.0.0.0", int(port)


def _response(status: str, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class MetricsEndpoint:
    """Serves `render()` at `/metrics` on `listen`; `port` is the bound port once started."""

    def __init__(self, listen: str, render: Callable[[], Awaitable[bytes]]) -> None:
        self._host, self._requested_port = _split_listen(listen)
        self._render = render
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        """Binds and starts accepting scrapes."""
        try:
            self._server = await asyncio.start_server(
                self._serve, self._host, self._requested_port, limit=_MAX_HEAD_BYTES
            )
        except OSError as exc:
            raise ValueError(
                f"cannot listen for metrics on {self._host}:{self._requested_port}: {exc.strerror}"
            ) from None
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stops accepting scrapes and waits for the ones in progress."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_READ_TIMEOUT_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            writer.write(await self._answer(head))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ConnectionError):
            pass  # a client that hung up, sent an oversized head or stalled gets no answer
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass

    async def _answer(self, head: bytes) -> bytes:
        method, _, rest = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")
        path = rest.split(" ", 1)[0].split("?", 1)[0]
        if path != "/metrics":
            return _response("404 Not Found", b"metrics are at /metrics\n")
        if method not in ("GET", "HEAD"):
            return _response("405 Method Not Allowed", b"use GET\n")
        try:
            body = await self._render()
        except Exception:
            log.exception("rendering metrics failed")
            return _response("500 Internal Server Error", b"rendering metrics failed\n")
        response = _response("200 OK", body, CONTENT_TYPE_LATEST)
        return response[: len(response) - len(body)] if method == "HEAD" else response
