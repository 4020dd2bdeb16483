"""Small input checks shared by every engine; each raises `InvalidArgument` naming the field."""

from __future__ import annotations

import uuid

from engines.kernel.errors import InvalidArgument

__all__ = ["require_name", "require_non_negative", "require_uuid"]


def require_uuid(field: str, value: str) -> str:
    """Returns the canonical form of a UUID string, or raises naming `field`."""
    if not value:
        raise InvalidArgument.single(field, "is required")
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument.single(field, "must be a UUID") from None


def require_name(field: str, value: str, *, max_length: int = 128) -> str:
    """A display name: 1..max_length characters after trimming, no control characters."""
    name = value.strip()
    if not name:
        raise InvalidArgument.single(field, "is required")
    if len(name) > max_length:
        raise InvalidArgument.single(field, f"must be at most {max_length} characters")
    if any(ord(c) < 32 for c in name):
        raise InvalidArgument.single(field, "must not contain control characters")
    return name


def require_non_negative(field: str, value: int) -> int:
    """A limit where 0 means unlimited."""
    if value < 0:
        raise InvalidArgument.single(field, "must be >= 0 (0 means unlimited)")
    return value
