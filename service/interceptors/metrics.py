"""Counts, times and tracks in-flight RPCs and their messages for Prometheus, as
go-grpc-prometheus does (see service/metrics.py); server reflection's bidi streams included."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from service.interceptors.wrapping import (
    AroundInterceptor,
    Context,
    Continuation,
    Handler,
    Requests,
    rpc_type,
    status_code_name,
)
from service.metrics import ServiceMetrics, go_code_name, split_method

__all__ = ["MetricsInterceptor"]


class _MethodMeters:
    """The metric children of one method, looked up once instead of on every call."""

    __slots__ = ("in_flight", "seconds", "started", "received", "sent", "_handled", "_labels",
                 "_metrics")

    def __init__(self, metrics: ServiceMetrics, grpc_type: str, method: str) -> None:
        self._metrics = metrics
        self._labels = (grpc_type, *split_method(method))
        self.started = metrics.rpcs_started.labels(*self._labels)
        self.received = metrics.msgs_received.labels(*self._labels)
        self.sent = metrics.msgs_sent.labels(*self._labels)
        self.in_flight = metrics.rpcs_in_flight.labels(*self._labels)
        self.seconds = metrics.rpc_seconds.labels(*self._labels)
        self._handled: dict[str, Any] = {}

    def handled(self, code: str) -> Any:
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = self._metrics.rpcs_handled.labels(
                *self._labels, go_code_name(code)
            )
        return child


class _CallMeter:
    """The metrics of one RPC from start to status."""

    __slots__ = ("meters", "_started")

    def __init__(self, meters: _MethodMeters) -> None:
        self.meters = meters
        self._started = time.perf_counter()
        meters.started.inc()
        meters.in_flight.inc()

    def finish(self, context: Context, failed: bool) -> None:
        meters = self.meters
        meters.in_flight.dec()
        meters.seconds.observe(time.perf_counter() - self._started)
        meters.handled(status_code_name(context, failed)).inc()


class MetricsInterceptor(AroundInterceptor):
    """Placed right inside RpcLoggingInterceptor: it sees the status the error mapping set and
    times everything the call does, authentication included."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        super().__init__()
        self._metrics = metrics
        self._types: dict[str, str] = {}
        self._meters: dict[str, _MethodMeters] = {}

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await super().intercept_service(continuation, handler_call_details)
        method = handler_call_details.method
        if handler is not None and method not in self._types:
            self._types[method] = rpc_type(handler)
        return handler

    def _start(self, method: str) -> _CallMeter:
        meters = self._meters.get(method)
        if meters is None:
            meters = self._meters[method] = _MethodMeters(
                self._metrics, self._types.get(method, "unary"), method
            )
        return _CallMeter(meters)

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        meter, failed = self._start(method), True
        meter.meters.received.inc()
        try:
            result = await call()
            failed = False
            meter.meters.sent.inc()
            return result
        finally:
            meter.finish(context, failed)

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        meter, failed = self._start(method), True
        meter.meters.received.inc()
        try:
            async for item in call():
                meter.meters.sent.inc()
                yield item
            failed = False
        finally:
            meter.finish(context, failed)

    async def around_bidi(
        self, method: str, call: Callable[[Requests], AsyncIterator[Any]], requests: Requests,
        context: Context,
    ) -> AsyncIterator[Any]:
        meter, failed = self._start(method), True

        async def counted() -> AsyncIterator[Any]:
            async for request in requests:
                meter.meters.received.inc()
                yield request

        try:
            async for item in call(counted()):
                meter.meters.sent.inc()
                yield item
            failed = False
        finally:
            meter.finish(context, failed)
