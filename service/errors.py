"""The one table that turns engine errors into gRPC statuses with `google.rpc` details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from engines.kernel import errors

__all__ = ["ERROR_DOMAIN", "STATUS_CODES", "status_for", "internal_status"]

ERROR_DOMAIN = "integrations.example.com"

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


def _code_of(error: errors.ServiceError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return grpc.StatusCode.INTERNAL


def _to_status(status: status_pb2.Status) -> grpc.Status:
    converted: grpc.Status = rpc_status.to_status(status)  # grpc_status is untyped
    return converted


def _packed(message: object) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)  # type: ignore[arg-type]
    return detail


def status_for(error: errors.ServiceError) -> grpc.Status:
    """The rich status for an engine error: BadRequest for bad fields, ErrorInfo for reasons."""
    code = _code_of(error)
    details = []
    if isinstance(error, errors.InvalidArgument) and error.violations:
        details.append(
            _packed(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description
                        )
                        for v in error.violations
                    ]
                )
            )
        )
    if error.reason:
        details.append(
            _packed(
                error_details_pb2.ErrorInfo(
                    reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata
                )
            )
        )
    return _to_status(status_pb2.Status(code=code.value[0], message=error.message, details=details))


def internal_status() -> grpc.Status:
    """What callers see of an unexpected failure: no exception text, no stack trace."""
    return _to_status(
        status_pb2.Status(
            code=code_pb2.INTERNAL,
            message="internal error; the service logged the details",
        )
    )
