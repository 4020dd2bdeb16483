"""Every engine error survives the trip to a gRPC status and back: what `service/errors` sends is
what the credential client (and any client of this service's own interfaces) raises again."""

from __future__ import annotations

import grpc
import pytest

from drivers.kernel.grpc_status_codes import STATUS_CODES, error_from_call, error_from_status
from engines.egress.policy import EgressDenied
from engines.kernel import errors
from service.errors import status_for

_EXAMPLES: list[errors.ServiceError] = [
    errors.InvalidArgument(
        [
            errors.FieldViolation("integration.name", "must not be empty"),
            errors.FieldViolation("integration.config.base_url", "must be https"),
        ],
        reason="BAD_FIELDS",
        metadata={"count": "2"},
    ),
    errors.NotFound("credential", "cus-vault://t/openai"),
    errors.AlreadyExists("integration 'prod' already exists", metadata={"name": "prod"}),
    errors.FailedPrecondition(
        "CREDENTIAL_DESTINATION_DENIED", "not allowed to api.evil.test", metadata={"host": "x"}
    ),
    errors.Aborted("etag mismatch: re-read and retry"),
    errors.Unauthenticated("no bearer token"),
    errors.PermissionDenied("needs credentials.reveal", reason="SCOPE_MISSING"),
    errors.Unavailable("the database is unavailable"),
    errors.DeadlineExceeded("the query ran past 5 s"),
    errors.Unimplemented("not served by this build"),
]


def _call_failing_with(error: errors.ServiceError) -> grpc.aio.AioRpcError:
    """The failed call a client sees when a servicer raised `error` (same trailers, same code)."""
    status = status_for(error)
    return grpc.aio.AioRpcError(
        status.code,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(*status.trailing_metadata),
        details=status.details,
    )


def _parts(error: errors.ServiceError) -> tuple[object, ...]:
    violations = getattr(error, "violations", ())
    return (error.message, error.reason, error.metadata, tuple(violations))


def test_the_examples_cover_every_class_of_the_table() -> None:
    assert {type(e) for e in _EXAMPLES} == set(STATUS_CODES)


@pytest.mark.parametrize("error", _EXAMPLES, ids=lambda e: type(e).__name__)
def test_each_engine_error_round_trips_through_its_status(error: errors.ServiceError) -> None:
    call = _call_failing_with(error)
    assert call.code() == STATUS_CODES[type(error)]

    decoded = error_from_call(call)

    assert type(decoded) is type(error)
    assert decoded is not None and _parts(decoded) == _parts(error)


def test_a_subclass_comes_back_as_its_table_class_with_its_reason() -> None:
    denied = EgressDenied("a link-local address", rule="link-local", target="169.254.169.254")

    decoded = error_from_call(_call_failing_with(denied))

    assert type(decoded) is errors.FailedPrecondition
    assert decoded is not None
    assert (decoded.reason, decoded.message) == (denied.reason, denied.message)
    assert decoded.metadata == denied.metadata


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.RESOURCE_EXHAUSTED]
)
def test_codes_no_engine_error_has_decode_to_nothing(code: grpc.StatusCode) -> None:
    assert error_from_status(code, "boom") is None
