"""Soft deletion shared by every Delete RPC of a versioned resource: the etag check, then the
conditional delete of the live row."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar

from engines.kernel.errors import NotFound
from engines.kernel.optimistic import Versioned, check_etag

__all__ = ["Owned", "SoftDeletes", "soft_delete"]


class Owned(Versioned, Protocol):
    """A versioned resource that belongs to one tenant."""

    @property
    def id(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...


class SoftDeletes(Protocol):
    """The store half of a soft delete (`VersionedStore` has it)."""

    async def soft_delete(self, tenant_id: str, resource_id: str, when: datetime) -> bool: ...


R = TypeVar("R", bound=Owned)


async def soft_delete(
    current: R, store: SoftDeletes, when: datetime, *, resource: str, etag: str = ""
) -> R:
    """Soft-deletes `current`, just read by its engine (so the caller's and live), and returns it.

    A non-empty stale `etag` is ABORTED; a concurrent delete that got there first is NotFound."""
    check_etag(current, etag, resource=resource)
    if not await store.soft_delete(current.tenant_id, current.id, when):
        raise NotFound(resource, current.id)
    return current
