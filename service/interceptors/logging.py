"""One structured log line per RPC: method, code, duration, caller, tenant. Never a request body."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from service.auth import request_tenant
from service.call_info import CallInfo, start_call
from service.interceptors.wrapping import AroundInterceptor, Context, status_code_name

__all__ = ["RpcLoggingInterceptor"]

log = logging.getLogger("integrations.rpc")


def _begin(method: str, request: Any, context: Context) -> CallInfo:
    info = start_call(method)
    info.tenant_id = request_tenant(request)
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            info.request_id = str(value)[:128]
    return info


def _emit(info: CallInfo, context: Context, started: float, failed: bool) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    code = status_code_name(context, failed)
    log.info(
        "rpc %s %s",
        info.method,
        code,
        extra={
            "rpc": {
                "method": info.method,
                "code": code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "caller": info.caller,
                "tenant_id": info.tenant_id,
                "request_id": info.request_id,
            }
        },
    )


class RpcLoggingInterceptor(AroundInterceptor):
    """Outermost interceptor: opens the call record and logs it when the RPC ends."""

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        info, started, failed = _begin(method, request, context), time.perf_counter(), True
        try:
            result = await call()
            failed = False
            return result
        finally:
            _emit(info, context, started, failed)

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        info, started, failed = _begin(method, request, context), time.perf_counter(), True
        try:
            async for item in call():
                yield item
            failed = False
        finally:
            _emit(info, context, started, failed)
