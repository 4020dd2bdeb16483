"""Idempotent creates (AIP-155): the caller's `request_id`, the digest of the request it came
with, and what a replay of it answers.

A replay of the same request returns what the first create made. The same `request_id` with a
different request is FAILED_PRECONDITION `REQUEST_ID_REUSED`; a replay after the resource was
deleted is NOT_FOUND saying so, never the deleted resource. Rows stored before digests were kept
have none and match any request."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from engines.kernel.errors import FailedPrecondition, InvalidArgument, NotFound

__all__ = [
    "MAX_REQUEST_ID_LENGTH",
    "REQUEST_ID_REUSED",
    "IdempotencyKey",
    "Replay",
    "check_request_id",
    "earlier_create",
    "idempotency_key",
    "request_digest",
]

T = TypeVar("T")

MAX_REQUEST_ID_LENGTH = 128
REQUEST_ID_REUSED = "REQUEST_ID_REUSED"


def check_request_id(request_id: str) -> None:
    """Idempotency keys are optional and at most MAX_REQUEST_ID_LENGTH characters."""
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument.single(
            "request_id", f"must be at most {MAX_REQUEST_ID_LENGTH} characters"
        )


def request_digest(request: object) -> str:
    """A digest of what a caller asked for (a dataclass or JSON-like value), stable across
    processes. Callers leave secrets out (or put in a keyed digest of them): it is stored."""
    if dataclasses.is_dataclass(request) and not isinstance(request, type):
        request = dataclasses.asdict(request)
    canonical = json.dumps(request, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Replay(Generic[T]):
    """What an earlier create with a request_id left: the resource (possibly deleted since)
    and the digest of its request (None for rows stored before digests were kept)."""

    resource: T
    resource_id: str
    request_digest: str | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A create's `request_id` and the digest of the request it came with."""

    request_id: str
    digest: str

    def replay(self, earlier: Replay[T], *, resource: str) -> T:
        """What a create that finds `earlier` under its request_id answers."""
        if earlier.request_digest is not None and earlier.request_digest != self.digest:
            raise FailedPrecondition(
                REQUEST_ID_REUSED,
                f"request_id {self.request_id!r} was already used for a different request; "
                "send a new request_id for a new request",
                metadata={"request_id": self.request_id},
            )
        if earlier.deleted:
            raise NotFound(
                resource,
                earlier.resource_id,
                detail=f"was deleted after request_id {self.request_id!r} created it; send a "
                "new request_id to create another",
            )
        return earlier.resource


def idempotency_key(request_id: str, request: object) -> IdempotencyKey | None:
    """The key of a create (None when the caller sent no request_id); `request` is digested."""
    check_request_id(request_id)
    return IdempotencyKey(request_id, request_digest(request)) if request_id else None


async def earlier_create(
    find: Callable[[str, str], Awaitable[Replay[T] | None]],
    tenant_id: str,
    key: IdempotencyKey | None,
    *,
    resource: str,
) -> T | None:
    """What an earlier create with the same request_id made (None when new or no key given);
    REQUEST_ID_REUSED or NOT_FOUND as `IdempotencyKey.replay` says."""
    if key is None:
        return None
    earlier = await find(tenant_id, key.request_id)
    return None if earlier is None else key.replay(earlier, resource=resource)
