"""The one table between engine errors and gRPC status codes, read both ways.

`service/errors.py` encodes an engine error as a status with `google.rpc` details; gRPC clients
of this service's own interfaces (the credential client) decode a status back into the engine
error it came from with `error_from_status`, so the two directions cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from engines.kernel import errors

__all__ = ["STATUS_CODES", "error_from_call", "error_from_status", "status_code_for"]

STATUS_CODES: dict[type[errors.ServiceError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Aborted: grpc.StatusCode.ABORTED,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
}

_ERROR_CLASSES: dict[grpc.StatusCode, type[errors.ServiceError]] = {
    code: cls for cls, code in STATUS_CODES.items()
}


def status_code_for(error: errors.ServiceError) -> grpc.StatusCode:
    """The code of an engine error: its class's, or its nearest base's; INTERNAL for none."""
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return grpc.StatusCode.INTERNAL


def error_from_status(
    code: grpc.StatusCode,
    message: str,
    *,
    reason: str | None = None,
    metadata: Mapping[str, str] | None = None,
    violations: Sequence[errors.FieldViolation] = (),
) -> errors.ServiceError | None:
    """The engine error a status was encoded from, or None for a code no engine error has
    (INTERNAL, UNKNOWN, RESOURCE_EXHAUSTED, ...): the caller decides what those mean to it."""
    cls = _ERROR_CLASSES.get(code)
    if cls is None:
        return None
    if cls is errors.InvalidArgument:
        return errors.InvalidArgument(violations, reason=reason, metadata=metadata)
    if cls is errors.NotFound:
        resource = (metadata or {}).get("resource", "")
        error: errors.ServiceError = errors.NotFound(resource, "", message=message)
    elif cls is errors.FailedPrecondition:
        error = errors.FailedPrecondition(reason or "FAILED_PRECONDITION", message)
    else:
        error = cls(message)
    if reason:
        error.reason = reason
    error.metadata = dict(metadata or {})
    return error


def error_from_call(call: grpc.aio.AioRpcError) -> errors.ServiceError | None:
    """`error_from_status` of a failed call, with its ErrorInfo and BadRequest details."""
    reason, metadata, violations = None, {}, []
    status = rpc_status.from_call(call)
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            violations = [errors.FieldViolation(v.field, v.description) for v in bad.field_violations]
    return error_from_status(
        call.code(), call.details() or "", reason=reason, metadata=metadata, violations=violations
    )
