"""Helpers shared by the tests: a running server handle and unpacking of rich gRPC errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from drivers.egress.guard import EgressGuard
from engines.egress.policy import EgressPolicy
from engines.kernel.idempotency import IdempotencyKey
from service.bootstrap import Application

__all__ = [
    "LOOPBACK_EGRESS", "RichError", "RunningServer", "loopback_guard", "new_tenant", "request_key",
    "rich_error",
]

# The egress rules of test servers: loopback opened EXPLICITLY, since every target the tests
# start (fake provider, loopback listeners, the customer PostgreSQL) is local.
LOOPBACK_EGRESS = ("127.0.0.0/8", "::1")

S = TypeVar("S")


def loopback_guard() -> EgressGuard:
    """An egress guard for driver tests: the defaults, with loopback opened."""
    return EgressGuard(EgressPolicy.from_rules(LOOPBACK_EGRESS))


def request_key(request_id: str, request: str = "the request") -> IdempotencyKey:
    """An idempotency key as engines make it, for store tests."""
    return IdempotencyKey(request_id, f"digest of {request}")


def new_tenant() -> str:
    """A fresh tenant id: tests share one database per backend and isolate by tenant."""
    return str(uuid.uuid4())


@dataclass
class RunningServer:
    """A real grpc.aio server on a loopback port, with a channel to it."""

    app: Application
    channel: grpc.aio.Channel
    database_url: str
    backend: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.app.port}"

    def stub(self, stub_class: type[S]) -> S:
        return stub_class(self.channel)  # type: ignore[call-arg]


@dataclass
class RichError:
    """What a client can read from a failed call: code, message, google.rpc details."""

    code: grpc.StatusCode
    message: str
    field_violations: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


def rich_error(error: grpc.aio.AioRpcError | Any) -> RichError:
    """Unpacks BadRequest and ErrorInfo from a failed call's trailing status."""
    result = RichError(code=error.code(), message=error.details() or "")
    status = rpc_status.from_call(error)
    if status is None:
        return result
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            result.field_violations.update(
                {v.field: v.description for v in bad.field_violations}
            )
        elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            result.reason = info.reason
            result.metadata = dict(info.metadata)
    return result


def timestamp(value: datetime) -> timestamp_pb2.Timestamp:
    """A protobuf Timestamp of an aware datetime, for request fields."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts
