"""Requests that protobuf cannot decode (malformed bytes, or nesting past the parser's 100-level
limit, e.g. a deeply nested Struct) as INVALID_ARGUMENT instead of grpc's bare UNKNOWN.

grpc decodes a request before any interceptor's behaviour runs and answers UNKNOWN when the
deserializer raises; so the handler gets a deserializer that returns `UndecodableRequest`
instead, and the error-mapping interceptor refuses it before the servicer sees it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from engines.kernel.errors import InvalidArgument
from service.interceptors.wrapping import Handler

__all__ = ["UndecodableRequest", "refuse_undecodable", "with_tolerant_deserializer"]


@dataclass(frozen=True, slots=True)
class UndecodableRequest:
    """Stands in for a request whose bytes did not decode."""

    type_name: str


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            owner = getattr(deserializer, "__self__", None)
            return UndecodableRequest(getattr(owner, "__name__", "request"))

    return deserialize


def with_tolerant_deserializer(handler: Handler | None) -> Handler | None:
    """`handler` with a deserializer that never raises (see the module docstring)."""
    if handler is None or handler.request_deserializer is None:
        return handler
    build = (
        grpc.unary_unary_rpc_method_handler
        if handler.unary_unary is not None
        else grpc.unary_stream_rpc_method_handler
        if handler.unary_stream is not None
        else None
    )
    if build is None:
        return handler
    behaviour: Any = handler.unary_unary or handler.unary_stream  # a coroutine function (aio)
    return build(
        behaviour,
        request_deserializer=_tolerant(handler.request_deserializer),
        response_serializer=handler.response_serializer,
    )


def refuse_undecodable(request: Any) -> None:
    """Raises INVALID_ARGUMENT for a request that did not decode."""
    if isinstance(request, UndecodableRequest):
        raise InvalidArgument.single(
            "request",
            f"{request.type_name} could not be decoded: malformed protobuf, or nested more "
            "than 100 levels deep",
            reason="MALFORMED_REQUEST",
        )
