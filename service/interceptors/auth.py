"""Caller authentication for every RPC but health and reflection: bearer token, scope, tenant.

Runs inside ErrorMappingInterceptor, so Unauthenticated/PermissionDenied become rich statuses,
and inside RpcLoggingInterceptor, whose log line then names the caller (never the token)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from engines.kernel.errors import PermissionDenied
from service.auth import CallerRegistry, is_open_method, request_tenant
from service.call_info import current_call
from service.interceptors.wrapping import AroundInterceptor, Context, Continuation, Handler

__all__ = ["AuthInterceptor", "RefusalHook"]

# (method, request, caller name, why) -> records a refused call (the reveal access log uses it).
RefusalHook = Callable[[str, Any, str, str], Awaitable[None]]


def _authorization(context: Context) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return str(value)
    return None


class AuthInterceptor(AroundInterceptor):
    """Rejects calls without a known token (UNAUTHENTICATED), without the method's scope or for
    a tenant the caller may not act for (PERMISSION_DENIED)."""

    def __init__(self, registry: CallerRegistry, on_refused: RefusalHook | None = None) -> None:
        super().__init__()
        self._registry = registry
        self._on_refused = on_refused

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        if is_open_method(handler_call_details.method):
            return await continuation(handler_call_details)
        return await super().intercept_service(continuation, handler_call_details)

    async def _check(self, method: str, request: Any, context: Context) -> None:
        caller = self._registry.authenticate(_authorization(context))
        current_call().caller = caller.name
        current_call().scopes = caller.scopes
        current_call().roles = caller.roles
        try:
            self._registry.authorize(caller, method, request_tenant(request))
        except PermissionDenied as exc:
            if self._on_refused is not None:
                await self._on_refused(method, request, caller.name, exc.message)
            raise

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        await self._check(method, request, context)
        return await call()

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        await self._check(method, request, context)
        async for item in call():
            yield item
