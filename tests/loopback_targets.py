"""Real network targets on 127.0.0.1 for connection tests: a tiny HTTP server that answers with
a chosen status and records the requests it got, a server that accepts and never answers, and a
port that is closed."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

__all__ = [
    "CountingTarget", "HttpTarget", "closed_port", "counting_target", "http_target", "silent_target",
]


@dataclass
class HttpTarget:
    """A running loopback HTTP server; `requests` holds each request's head (request line and
    headers, lower-cased names)."""

    port: int
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def http_target(status: int = 200) -> AsyncIterator[HttpTarget]:
    """An HTTP/1.1 server answering every request with `status` and an empty body."""
    target = HttpTarget(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        request = {"request-line": head[0]}
        for line in head[1:]:
            name, _, value = line.partition(":")
            if name:
                request[name.strip().lower()] = value.strip()
        target.requests.append(request)
        location = "Location: /elsewhere\r\n" if 300 <= status < 400 else ""
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n{location}Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    target.port = server.sockets[0].getsockname()[1]
    try:
        yield target
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class CountingTarget:
    """A loopback port that counts the connections it accepted (and closes them)."""

    port: int
    connections: int = 0


@contextlib.asynccontextmanager
async def counting_target() -> AsyncIterator[CountingTarget]:
    """A TCP listener on 127.0.0.1 that records how many connections reached it."""
    target = CountingTarget(port=0)

    async def handle(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target.connections += 1
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    target.port = server.sockets[0].getsockname()[1]
    try:
        yield target
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def silent_target(greeting: bytes = b"") -> AsyncIterator[int]:
    """A port that accepts connections and sends nothing but `greeting`; yields the port."""
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        if greeting:
            writer.write(greeting)
            await writer.drain()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
