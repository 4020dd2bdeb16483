"""Health checking's part of the server's lifetime: the optional background checker
(`serve --health-interval`) and the probe's HTTP client, closed at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from drivers.health.provider_probe import HttpProviderProbe
from engines.health.checks import DEFAULT_MAX_CONCURRENCY, HealthEngine, HealthSettings
from engines.kernel.errors import ServiceError

__all__ = ["HealthRuntime"]

log = logging.getLogger("integrations.health")


class HealthRuntime:
    """Runs batch checks for all tenants every `background_interval` (when set).

    Replicas share the database claim, so each stale integration is probed once per interval
    however many replicas run this loop."""

    def __init__(
        self, engine: HealthEngine, probe: HttpProviderProbe, settings: HealthSettings
    ) -> None:
        self._engine = engine
        self._probe = probe
        self._interval = settings.background_interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._interval is not None:
            self._task = asyncio.create_task(self._loop(), name="background-health-checks")
            log.info("background health checks every %.0f s", self._interval.total_seconds())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._probe.aclose()

    async def _loop(self) -> None:
        assert self._interval is not None
        while True:
            try:
                checked = await self._engine.check_everywhere(
                    self._interval, DEFAULT_MAX_CONCURRENCY
                )
                if checked:
                    log.info("background health checks: %d integration(s) checked", checked)
            except ServiceError as exc:  # e.g. the database is down: try again next round
                log.warning("background health checks failed: %s", exc.message)
            except Exception:  # noqa: BLE001 - a bug must not stop every later round
                log.exception("background health checks failed unexpectedly")
            await asyncio.sleep(self._interval.total_seconds())
