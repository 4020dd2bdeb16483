"""Turns engine errors into rich gRPC statuses, and anything unexpected into a bare INTERNAL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from engines.kernel.errors import ServiceError
from service.errors import internal_status, status_for
from service.interceptors.decoding import refuse_undecodable, with_tolerant_deserializer
from service.interceptors.wrapping import AroundInterceptor, Context, Handler

__all__ = ["ErrorMappingInterceptor"]

log = logging.getLogger("integrations.errors")


async def _abort_for(exc: Exception, context: Context, method: str) -> None:
    if isinstance(exc, ServiceError):
        await context.abort_with_status(status_for(exc))
    log.error("unexpected error in %s: %s", method, type(exc).__name__, exc_info=exc)
    await context.abort_with_status(internal_status())


class ErrorMappingInterceptor(AroundInterceptor):
    """Servicers raise engine errors; this is the only place that maps them (service/errors.py).

    It also turns a request that does not decode into INVALID_ARGUMENT (interceptors/decoding.py),
    before the inner interceptors and the servicer see it."""

    def adapt_handler(self, handler: Handler | None) -> Handler | None:
        return with_tolerant_deserializer(handler)

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        try:
            refuse_undecodable(request)
            return await call()
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - every error must become a status
            await _abort_for(exc, context, method)

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        try:
            refuse_undecodable(request)
            async for item in call():
                yield item
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001
            await _abort_for(exc, context, method)
