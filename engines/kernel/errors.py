"""The one exception tree every engine raises; `service/errors.py` maps each class to a gRPC status.

Messages are shown to callers verbatim, so they must never contain a secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "Aborted",
    "AlreadyExists",
    "DeadlineExceeded",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ServiceError",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
]


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field: its path (`integration.name`) and what is wrong with it."""

    field: str
    description: str


class ServiceError(Exception):
    """Base of every error an engine raises on purpose.

    `reason` is an UPPER_SNAKE code sent as `google.rpc.ErrorInfo.reason`; `metadata` goes with it.
    """

    default_reason: str | None = None

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(ServiceError):
    """Malformed or out-of-range input; names every bad field."""

    def __init__(
        self,
        violations: Iterable[FieldViolation] | Mapping[str, str],
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(violations, Mapping):
            violations = [FieldViolation(f, d) for f, d in violations.items()]
        self.violations: tuple[FieldViolation, ...] = tuple(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(
            f"invalid argument: {summary}" if summary else "invalid argument",
            reason=reason,
            metadata=metadata,
        )

    @classmethod
    def single(cls, field: str, description: str, **kwargs: object) -> InvalidArgument:
        """Shorthand for one bad field."""
        return cls([FieldViolation(field, description)], **kwargs)  # type: ignore[arg-type]


class NotFound(ServiceError):
    """Unknown id, or one owned by another tenant (the message is the same for both)."""

    default_reason = "NOT_FOUND"

    def __init__(
        self,
        resource: str,
        resource_id: str,
        *,
        detail: str = "not found",
        message: str | None = None,
    ) -> None:
        """`detail` follows the resource's name and id; `message` replaces the whole text."""
        super().__init__(
            message or f"{resource} {resource_id!r} {detail}", metadata={"resource": resource}
        )


class AlreadyExists(ServiceError):
    """Duplicate name within a tenant."""

    default_reason = "ALREADY_EXISTS"


class FailedPrecondition(ServiceError):
    """A lifecycle transition that is not allowed, or a contract rule broken; `reason` says which."""

    def __init__(
        self, reason: str, message: str, *, metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message, reason=reason, metadata=metadata)


class Aborted(ServiceError):
    """A stale etag or a lost concurrent update: re-read and retry."""

    default_reason = "ETAG_MISMATCH"


class PermissionDenied(ServiceError):
    """The caller lacks the scope or the tenant, or the resource is not allowed for this use."""

    default_reason = "PERMISSION_DENIED"


class Unauthenticated(ServiceError):
    """No or bad credentials on the call."""

    default_reason = "UNAUTHENTICATED"


class Unavailable(ServiceError):
    """The database or another dependency is down; the call may be retried."""

    default_reason = "UNAVAILABLE"


class DeadlineExceeded(ServiceError):
    """A query or probe ran past its time."""

    default_reason = "DEADLINE_EXCEEDED"


class Unimplemented(ServiceError):
    """The RPC exists in the contract but this build does not serve it yet."""

    default_reason = "UNIMPLEMENTED"
