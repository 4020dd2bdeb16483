"""Wraps the behaviour of a grpc.aio method handler, for interceptors that need the request,
the context and the outcome (aio interceptors otherwise only see the method name)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

__all__ = ["UnaryAround", "wrap_handler"]

# around(call, request, context): runs `call()` (the original behaviour) and returns its result.
UnaryAround = Callable[[Callable[[], Awaitable[Any]], Any, grpc.aio.ServicerContext], Awaitable[Any]]
StreamAround = Callable[
    [Callable[[], AsyncIterator[Any]], Any, grpc.aio.ServicerContext], AsyncIterator[Any]
]


def wrap_handler(
    handler: grpc.RpcMethodHandler | None, unary: UnaryAround, stream: StreamAround
) -> grpc.RpcMethodHandler | None:
    """Returns `handler` with its unary-unary or unary-stream behaviour run inside `unary`/`stream`.

    Client-streaming handlers are not used by this service and pass through untouched."""
    if handler is None:
        return None
    if handler.unary_unary is not None:
        inner_unary = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            return await unary(lambda: inner_unary(request, context), request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        inner_stream = handler.unary_stream

        async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> None:
            # A streaming behaviour is either an async generator or a coroutine that calls
            # context.write() itself (grpc.health's Watch); run both as the latter.
            result = inner_stream(request, context)
            if hasattr(result, "__aiter__"):
                async for item in stream(lambda: result, request, context):
                    await context.write(item)
            else:
                await unary(lambda: result, request, context)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler
