"""Counts, times and tracks in-flight RPCs for Prometheus (see service/metrics.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from service.interceptors.wrapping import AroundInterceptor, Context, status_code_name
from service.metrics import ServiceMetrics, split_method

__all__ = ["MetricsInterceptor"]


class _MethodMeters:
    """The metric children of one method, looked up once instead of on every call."""

    __slots__ = ("in_flight", "seconds", "_handled", "_labels", "_metrics")

    def __init__(self, metrics: ServiceMetrics, method: str) -> None:
        self._metrics = metrics
        self._labels = split_method(method)
        self.in_flight = metrics.rpcs_in_flight.labels(*self._labels)
        self.seconds = metrics.rpc_seconds.labels(*self._labels)
        self._handled: dict[str, Any] = {}

    def handled(self, code: str) -> Any:
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = self._metrics.rpcs_handled.labels(*self._labels, code)
        return child


class _CallMeter:
    """The metrics of one RPC from start to status."""

    __slots__ = ("_meters", "_started")

    def __init__(self, meters: _MethodMeters) -> None:
        self._meters = meters
        self._started = time.perf_counter()
        meters.in_flight.inc()

    def finish(self, context: Context, failed: bool) -> None:
        meters = self._meters
        meters.in_flight.dec()
        meters.seconds.observe(time.perf_counter() - self._started)
        meters.handled(status_code_name(context, failed)).inc()


class MetricsInterceptor(AroundInterceptor):
    """Placed right inside RpcLoggingInterceptor: it sees the status the error mapping set and
    times everything the call does, authentication included."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        super().__init__()
        self._metrics = metrics
        self._meters: dict[str, _MethodMeters] = {}

    def _start(self, method: str) -> _CallMeter:
        meters = self._meters.get(method)
        if meters is None:
            meters = self._meters[method] = _MethodMeters(self._metrics, method)
        return _CallMeter(meters)

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        meter, failed = self._start(method), True
        try:
            result = await call()
            failed = False
            return result
        finally:
            meter.finish(context, failed)

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        meter, failed = self._start(method), True
        try:
            async for item in call():
                yield item
            failed = False
        finally:
            meter.finish(context, failed)
