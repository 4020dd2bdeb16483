"""Idempotent creates: the caller's `request_id` key and its limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from engines.errors import InvalidArgument

__all__ = ["MAX_REQUEST_ID_LENGTH", "check_request_id", "earlier_create"]

T = TypeVar("T")

MAX_REQUEST_ID_LENGTH = 128


def check_request_id(request_id: str) -> None:
    """Idempotency keys are optional and at most MAX_REQUEST_ID_LENGTH characters."""
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument.single(
            "request_id", f"must be at most {MAX_REQUEST_ID_LENGTH} characters"
        )


async def earlier_create(
    find: Callable[[str, str], Awaitable[T | None]], tenant_id: str, request_id: str
) -> T | None:
    """What an earlier create with the same `request_id` made (None when new or no key given)."""
    check_request_id(request_id)
    return await find(tenant_id, request_id) if request_id else None
