"""A slow LLM provider for shutdown and deadline tests: a loopback HTTP server that answers every
request with 200 after a delay, and an integration whose probes go to it. It counts requests received and
requests answered, so a test can tell when calls are in flight and whether they were finished
or abandoned."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from google.protobuf import struct_pb2

from integrations.v1 import integrations_pb2, integrations_pb2_grpc
from tests.secrets_registry import register_secret

__all__ = [
    "PROVIDER_KEY",
    "PROVIDER_KEY_VARIABLE",
    "SlowHttpServer",
    "create_slow_integration",
    "slow_http_server",
]

PROVIDER_KEY_VARIABLE = "DEV_FAULT_TEST_PROVIDER_KEY"
PROVIDER_KEY = register_secret("sk-fault-test-provider-key")


@dataclass
class SlowHttpServer:
    port: int
    delay: float
    received: int = 0
    answered: int = 0
    open_connections: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def wait_received(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while self.received < count:
                await asyncio.sleep(0.01)

    async def wait_closed(self, timeout: float = 10.0) -> None:
        """Until no client connection is open (a cancelled probe closes its connection)."""
        async with asyncio.timeout(timeout):
            while self.open_connections:
                await asyncio.sleep(0.01)

    async def _client_waited(self, reader: asyncio.StreamReader) -> bool:
        """Waits out the delay while watching the socket: False when the client hung up first
        (a cancelled probe closes its connection), which is how tests see the cancel."""
        try:
            data = await asyncio.wait_for(reader.read(1), timeout=self.delay)
        except TimeoutError:
            return True
        return bool(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open_connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.received += 1
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if not await self._client_waited(reader):
                    return
                body = b'{"data": []}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                self.answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open_connections -= 1
            writer.close()


@contextlib.asynccontextmanager
async def slow_http_server(delay: float) -> AsyncIterator[SlowHttpServer]:
    """Serves on a free loopback port until the block ends."""
    target = SlowHttpServer(port=0, delay=delay)
    server = await asyncio.start_server(target._serve, "127.0.0.1", 0)
    target.port = server.sockets[0].getsockname()[1]
    try:
        yield target
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)


async def create_slow_integration(channel: grpc.aio.Channel, tenant: str, base_url: str) -> str:
    """An OpenAI integration whose probes go to `base_url`, keyed by env://PROVIDER_KEY_VARIABLE
    (the server needs that variable and env:// credentials enabled); returns its id."""
    created = await integrations_pb2_grpc.IntegrationsServiceStub(channel).CreateIntegration(
        integrations_pb2.CreateIntegrationRequest(
            tenant_id=tenant,
            integration=integrations_pb2.Integration(
                name="slow-provider", provider_type=integrations_pb2.PROVIDER_TYPE_OPENAI,
                credential_ref=f"env://{PROVIDER_KEY_VARIABLE}",
                config=_config(base_url),
            ),
        )
    )
    return str(created.id)


def _config(base_url: str) -> struct_pb2.Struct:
    config = struct_pb2.Struct()
    config.update({"base_url": base_url})
    return config
