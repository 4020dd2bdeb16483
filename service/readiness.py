"""Keeps grpc.health.v1 truthful: SERVING only while the service's database answers.

The extra health entry `liveness` says only that the process serves gRPC: an orchestrator's
liveness probe checks it, so an outage of the database makes replicas unready, not restarted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from grpc_health.v1 import health, health_pb2

from drivers.kernel.database import Database

__all__ = ["LIVENESS_SERVICE", "Readiness"]

log = logging.getLogger("integrations.readiness")
_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
LIVENESS_SERVICE = "liveness"


class Readiness:
    """Pings storage periodically and sets every registered service's health to match."""

    def __init__(
        self,
        servicer: health.aio.HealthServicer,
        database: Database,
        services: Iterable[str],
        interval_seconds: float,
    ) -> None:
        self._servicer = servicer
        self._database = database
        self._services = ["", *services]
        self._interval = interval_seconds
        self._task: asyncio.Task[None] | None = None
        self._ready: bool | None = None

    async def _set(self, ready: bool) -> None:
        if ready == self._ready:
            return
        self._ready = ready
        for name in self._services:
            await self._servicer.set(name, _SERVING if ready else _NOT_SERVING)
        if ready:
            log.info("storage ready: health SERVING")
        else:
            log.warning("storage unavailable: health NOT_SERVING")

    async def check_now(self) -> bool:
        """Pings storage once and updates health; returns whether it is ready."""
        ready = await self._database.ping()
        await self._set(ready)
        return ready

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.check_now()

    async def start(self) -> None:
        for name in self._services:
            await self._servicer.set(name, _NOT_SERVING)
        await self._servicer.set(LIVENESS_SERVICE, _SERVING)
        await self.check_now()
        self._task = asyncio.create_task(self._loop(), name="readiness")

    async def stop(self) -> None:
        """Stops pinging and reports NOT_SERVING for good (shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._servicer.enter_graceful_shutdown()
