"""Engine errors as gRPC statuses with `google.rpc` details (codes from the one table in
`drivers/kernel/grpc_status_codes.py`)."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from drivers.kernel.grpc_status_codes import status_code_for
from engines.kernel import errors

__all__ = ["ERROR_DOMAIN", "status_for", "internal_status"]

ERROR_DOMAIN = "integrations.example.com"


def _to_status(status: status_pb2.Status) -> grpc.Status:
    converted: grpc.Status = rpc_status.to_status(status)  # grpc_status is untyped
    return converted


def _packed(message: object) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)  # type: ignore[arg-type]
    return detail


def status_for(error: errors.ServiceError) -> grpc.Status:
    """The rich status for an engine error: BadRequest for bad fields, ErrorInfo for reasons."""
    code = status_code_for(error)
    details = []
    if isinstance(error, errors.InvalidArgument) and error.violations:
        details.append(
            _packed(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                        for v in error.violations
                    ]
                )
            )
        )
    if error.reason:
        details.append(
            _packed(
                error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata)
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
