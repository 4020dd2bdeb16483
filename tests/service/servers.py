"""Starting test servers with a chosen configuration (the `server` fixture uses the default)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import grpc

from service.bootstrap import create_server
from service.config import ServeConfig
from tests.support import RunningServer

__all__ = ["started"]


@contextlib.asynccontextmanager
async def started(config: ServeConfig, backend: str = "") -> AsyncIterator[RunningServer]:
    """A started server for `config` and a plaintext channel to it; stopped on exit."""
    app = await create_server(config)
    await app.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
    try:
        yield RunningServer(
            app=app, channel=channel, database_url=config.database_url, backend=backend
        )
    finally:
        await channel.close()
        await app.stop(0)
