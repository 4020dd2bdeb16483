"""A real HTTP/1.1 server on 127.0.0.1 that answers like an LLM provider, for health-probe tests
and the health benchmark: each route (first path segment) has its own status and delay, and
every request is recorded (method, path, query, headers, body)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

__all__ = ["FakeProvider", "Route", "SeenRequest", "fake_provider"]


@dataclass
class Route:
    """How one route answers."""

    status: int = 200
    delay: float = 0.0


@dataclass(frozen=True)
class SeenRequest:
    """A request as the provider received it (header names lower-cased)."""

    route: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeProvider:
    """Start with `fake_provider()`; `route(name, ...)` returns a base URL to put in config."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    disconnects: int = 0
    port: int = 0
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    def route(self, name: str, status: int = 200, delay: float = 0.0) -> str:
        self.routes[name] = Route(status, delay)
        return f"http://127.0.0.1:{self.port}/{name}"

    def seen(self, route: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.route == route]

    async def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                await asyncio.sleep(0.01)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            # Keep-alive, as real providers do: one connection serves request after request.
            while await self._answer_one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Reads one request and answers it; False when the client hung up."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        url = urlsplit(target)
        route_name = url.path.strip("/").split("/", 1)[0]
        self.requests.append(
            SeenRequest(route_name, method, url.path, dict(parse_qsl(url.query)), headers, body)
        )
        route = self.routes.get(route_name, Route(status=404))
        if route.delay:
            # Answer after the delay, unless the client hangs up first (a cancelled probe).
            try:
                if await asyncio.wait_for(reader.read(1), route.delay) == b"":
                    self.disconnects += 1
                    return False
            except TimeoutError:
                pass
        payload = b'{"data": []}'
        writer.write(
            f"HTTP/1.1 {route.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        return True


@contextlib.asynccontextmanager
async def fake_provider() -> AsyncIterator[FakeProvider]:
    """A started FakeProvider on a free loopback port, closed afterwards."""
    provider = FakeProvider()
    server = await asyncio.start_server(provider._handle, "127.0.0.1", 0, backlog=512)
    provider.port = server.sockets[0].getsockname()[1]
    async with server:
        try:
            yield provider
        finally:
            server.close()
            for task in list(provider._handlers):
                task.cancel()
            await asyncio.gather(*provider._handlers, return_exceptions=True)
