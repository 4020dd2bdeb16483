"""Several `integrations-service serve` processes on one fresh PostgreSQL database, with a channel
to each, for the replica tests and the mixed-workload benchmark.

The processes start together, so they also race to apply the migrations (an advisory lock makes
them take turns). They resolve env:// credential refs from the variables given in `env`, and
have a master key for the credential service."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
import grpc
import pytest

from drivers.credentials.master_keys import MASTER_KEYS_ENV
from tests.bench.harness import ServerProcess, postgres_database, wait_serving

__all__ = ["Replicas", "fresh_postgres", "replicas"]

S = TypeVar("S")


@dataclass
class Replicas:
    """Running server processes and one plaintext channel to each, in the same order."""

    database_url: str
    processes: Sequence[ServerProcess]
    channels: Sequence[grpc.aio.Channel]

    def stubs(self, stub_class: type[S]) -> list[S]:
        """One stub per replica; `stubs(...)[i % len(replicas)]` spreads calls round-robin."""
        return [stub_class(channel) for channel in self.channels]  # type: ignore[call-arg]

    def __len__(self) -> int:
        return len(self.processes)


@contextlib.asynccontextmanager
async def fresh_postgres(admin_url: str | None = None) -> AsyncIterator[str]:
    """A database with a random name on the shared PostgreSQL, dropped afterwards.

    Skips the test when PostgreSQL is unreachable, unless REQUIRE_POSTGRES=1."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            url = await stack.enter_async_context(postgres_database(admin_url))
        except (OSError, asyncpg.PostgresError) as exc:
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                pytest.fail(f"PostgreSQL required but unreachable: {exc}")
            pytest.skip("PostgreSQL is not reachable")
        yield url


async def _until_serving(server: ServerProcess, timeout: float) -> None:
    """Waits for SERVING; fails at once if the process exits first (say, a failed migration)."""
    assert server.process is not None
    serving = asyncio.ensure_future(wait_serving(server.address, timeout))
    try:
        while not serving.done():
            if server.process.poll() is not None:
                raise RuntimeError(
                    f"the replica on {server.address} exited with code "
                    f"{server.process.returncode} before serving"
                )
            await asyncio.wait({serving}, timeout=0.1)
        serving.result()
    finally:
        serving.cancel()


@contextlib.asynccontextmanager
async def replicas(
    database_url: str,
    count: int = 3,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> AsyncIterator[Replicas]:
    """`count` servers started at once on `database_url`; stopped (SIGTERM) on exit."""
    keys = "1:" + base64.b64encode(os.urandom(32)).decode()
    processes = [
        ServerProcess(
            database_url, "--allow-env-credentials", *args, env={MASTER_KEYS_ENV: keys, **(env or {})}
        )
        for _ in range(count)
    ]
    channels: list[grpc.aio.Channel] = []
    try:
        for process in processes:
            process.start()
        async with asyncio.TaskGroup() as group:  # the first failure cancels the other waits
            for process in processes:
                group.create_task(_until_serving(process, timeout))
        channels = [grpc.aio.insecure_channel(p.address) for p in processes]
        yield Replicas(database_url, processes, channels)
    finally:
        for channel in channels:
            await channel.close()
        for process in processes:
            if process.process is not None:
                process.stop()
