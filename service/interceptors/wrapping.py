"""Base for interceptors that run code around each call's behaviour with access to the request,
the context and the outcome (grpc.aio interceptors otherwise only see the method name)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc

from service.call_info import Context

__all__ = [
    "AroundInterceptor", "Context", "Continuation", "Handler", "rpc_type", "status_code_name",
    "wrap_handler",
]

# grpc's stubs type a handler's behaviours as the synchronous API's; under grpc.aio they are
# coroutine functions and async generators, so behaviours are handled as Any here.
# (The stubs' generics do not exist at run time, hence the quoted alias.)
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation = Callable[[grpc.HandlerCallDetails], Awaitable["Handler | None"]]

UnaryAround = Callable[[Callable[[], Awaitable[Any]], Any, Context], Awaitable[Any]]
StreamAround = Callable[[Callable[[], AsyncIterator[Any]], Any, Context], AsyncIterator[Any]]
Requests = AsyncIterator[Any]
BidiAround = Callable[[Callable[[Requests], AsyncIterator[Any]], Requests, Context], AsyncIterator[Any]]


def rpc_type(handler: Handler) -> str:
    """"unary", "client_stream", "server_stream" or "bidi_stream" (go-grpc-prometheus' grpc_type)."""
    if handler.request_streaming:
        return "bidi_stream" if handler.response_streaming else "client_stream"
    return "server_stream" if handler.response_streaming else "unary"


def status_code_name(context: Context, failed: bool) -> str:
    """The status a call ended with, by name ("OK", "NOT_FOUND", ...), once its behaviour has
    returned (`failed` False) or raised (`failed` True)."""
    if context.cancelled():
        return "CANCELLED"
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return "UNKNOWN" if failed else "OK"


def wrap_handler(
    handler: Handler | None, unary: UnaryAround, stream: StreamAround,
    bidi: BidiAround | None = None,
) -> Handler | None:
    """Returns `handler` with its unary-unary, unary-stream or (given `bidi`) stream-stream
    behaviour run inside `unary`/`stream`/`bidi`.

    A stream-stream behaviour must be an async generator (server reflection's is). Client-streaming
    unary handlers are not used by this service and pass through untouched."""
    if handler is None:
        return None
    if handler.unary_unary is not None:
        inner_unary: Any = handler.unary_unary

        async def unary_unary(request: Any, context: Context) -> Any:
            return await unary(lambda: inner_unary(request, context), request, context)

        return grpc.unary_unary_rpc_method_handler(
            unary_unary,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        inner_stream: Any = handler.unary_stream

        async def unary_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            # A streaming behaviour is either an async generator or a coroutine that calls
            # context.write() itself (grpc.health's Watch). The wrapper stays an async generator,
            # so the interceptors outside this one see the messages too.
            result = inner_stream(request, context)
            if hasattr(result, "__aiter__"):
                async for item in stream(lambda: result, request, context):
                    yield item
            else:
                await unary(lambda: result, request, context)

        return grpc.unary_stream_rpc_method_handler(
            unary_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.stream_stream is not None and bidi is not None:
        inner_bidi: Any = handler.stream_stream

        async def stream_stream(requests: Requests, context: Context) -> AsyncIterator[Any]:
            async for item in bidi(lambda given: inner_bidi(given, context), requests, context):
                yield item

        return grpc.stream_stream_rpc_method_handler(
            stream_stream,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


class AroundInterceptor(grpc.aio.ServerInterceptor):
    """Runs `around_unary`/`around_stream` around every call; subclasses override them.

    Wrapped handlers are built once per method and cached (the served methods never change),
    which keeps the per-call cost to the wrapper itself."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    async def intercept_service(
        self,
        continuation: Continuation,
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = handler_call_details.method
        cached = self._handlers.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        wrapped = self.adapt_handler(
            wrap_handler(
                handler,
                functools.partial(self.around_unary, method),
                functools.partial(self.around_stream, method),
                functools.partial(self.around_bidi, method),
            )
        )
        if wrapped is not None:
            self._handlers[method] = wrapped
        return wrapped

    def adapt_handler(self, handler: Handler | None) -> Handler | None:
        """A last change to the wrapped handler before it is cached (e.g. its deserializer)."""
        return handler

    async def around_unary(
        self, method: str, call: Callable[[], Awaitable[Any]], request: Any, context: Context
    ) -> Any:
        return await call()

    async def around_stream(
        self, method: str, call: Callable[[], AsyncIterator[Any]], request: Any, context: Context
    ) -> AsyncIterator[Any]:
        async for item in call():
            yield item

    def around_bidi(
        self, method: str, call: Callable[[Requests], AsyncIterator[Any]], requests: Requests,
        context: Context,
    ) -> AsyncIterator[Any]:
        """A stream-stream call (server reflection): by default `around_stream` with no request."""
        return self.around_stream(method, lambda: call(requests), None, context)
