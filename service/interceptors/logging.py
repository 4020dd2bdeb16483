"""One structured log line per RPC: method, code, duration, caller, tenant. Never a request body."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from service.call_info import CallInfo, start_call
from service.interceptors.wrapping import wrap_handler

__all__ = ["RpcLoggingInterceptor"]

log = logging.getLogger("integrations.rpc")


def _code_name(context: grpc.aio.ServicerContext, failed: bool) -> str:
    code = context.code()
    if code is None:
        return "UNKNOWN" if failed else "OK"
    if isinstance(code, grpc.StatusCode):
        return code.name
    return grpc.StatusCode(code).name if not isinstance(code, int) else _by_number(code)


def _by_number(number: int) -> str:
    for code in grpc.StatusCode:
        if code.value[0] == number:
            return code.name
    return "UNKNOWN"


def _begin(method: str, request: Any, context: grpc.aio.ServicerContext) -> CallInfo:
    info = start_call(method)
    info.tenant_id = str(getattr(request, "tenant_id", "") or "")
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            info.request_id = str(value)[:128]
    return info


def _emit(info: CallInfo, context: Any, started: float, failed: bool) -> None:
    code = "CANCELLED" if context.cancelled() else _code_name(context, failed)
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


class RpcLoggingInterceptor(grpc.aio.ServerInterceptor):
    """Outermost interceptor: opens the call record and logs it when the RPC ends."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method

        async def unary(call: Callable[[], Awaitable[Any]], request: Any, context: Any) -> Any:
            info, started, failed = _begin(method, request, context), time.perf_counter(), True
            try:
                result = await call()
                failed = False
                return result
            finally:
                _emit(info, context, started, failed)

        async def stream(
            call: Callable[[], AsyncIterator[Any]], request: Any, context: Any
        ) -> AsyncIterator[Any]:
            info, started, failed = _begin(method, request, context), time.perf_counter(), True
            try:
                async for item in call():
                    yield item
                failed = False
            finally:
                _emit(info, context, started, failed)

        return wrap_handler(await continuation(handler_call_details), unary, stream)
