"""Idempotent creates: the caller's `request_id` key and its limits."""

from __future__ import annotations

from engines.errors import InvalidArgument

__all__ = ["MAX_REQUEST_ID_LENGTH", "check_request_id"]

MAX_REQUEST_ID_LENGTH = 128


def check_request_id(request_id: str) -> None:
    """Idempotency keys are optional and at most MAX_REQUEST_ID_LENGTH characters."""
    if len(request_id) > MAX_REQUEST_ID_LENGTH:
        raise InvalidArgument.single(
            "request_id", f"must be at most {MAX_REQUEST_ID_LENGTH} characters"
        )
