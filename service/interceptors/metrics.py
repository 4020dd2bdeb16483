"""Counts, times and tracks in-flight RPCs for Prometheus (see service/metrics.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from service.interceptors.wrapping import AroundInterceptor, Context, status_code_name
from service.metrics import ServiceMetrics, split_method

__all__ = ["MetricsInterceptor"]


class _CallMeter:
    """The metrics of one RPC from start to status."""

    __slots__ = ("_metrics", "_service", "_method", "_started")

    def __init__(self, metrics: ServiceMetrics, method: str) -> None:
        self._metrics = metrics
        self._service, self._method = split_method(method)
        self._started = time.perf_counter()
        metrics.rpcs_in_flight.labels(self._service, self._method).inc()

    def finish(self, context: Context, failed: bool) -> None:
        service, method, metrics = self._service, self._method, self._metrics
        metrics.rpcs_in_flight.labels(service, method).dec()
        metrics.rpc_seconds.labels(service, method).observe(time.perf_counter() - self._started)
        metrics.rpcs_handled.labels(service, method, status_code_name(context, failed)).inc()


class MetricsInterceptor(AroundInterceptor):
    """Placed right inside RpcLoggingInterceptor: it sees the status the error mapping set and
    times everything the call does, authentication included."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        meter, failed = _CallMeter(self._metrics, method), True
        try:
            result = await call()
            failed = False
            return result
        finally:
            meter.finish(context, failed)

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        meter, failed = _CallMeter(self._metrics, method), True
        try:
            async for item in call():
                yield item
            failed = False
        finally:
            meter.finish(context, failed)
