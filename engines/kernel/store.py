"""The storage ports every tenant-owned resource shares. A resource's own store Protocol extends
one of these and declares only its extra queries.

Every method is scoped by tenant: another tenant's row is indistinguishable from a missing one.
Reads of soft-deleted resources see live rows only, except `find_by_request_id`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest

__all__ = ["Reader", "ResourceStore", "VersionedStore"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
F = TypeVar("F", contravariant=True)


class Reader(Protocol[T_co]):
    """Reads one live resource of a tenant by id."""

    async def get(self, tenant_id: str, resource_id: str) -> T_co | None: ...


class ResourceStore(Reader[T], Protocol[T, F]):
    """Creates and lists resources of one kind; `F` is its list filters (None: none)."""

    async def insert(self, resource: T, key: IdempotencyKey | None) -> T:
        """Stores a new resource with its idempotency key. When a create with the same
        request_id won a race, answers what `key.replay` says of it. Raises AlreadyExists on a
        clash of a unique key (a live name, a caller-chosen id)."""
        ...

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[T] | None:
        """What the tenant's create with `request_id` made (deleted or not), and its digest."""
        ...

    async def list(self, tenant_id: str, filters: F, page: PageRequest) -> tuple[Sequence[T], int]:
        """Up to `page.size + 1` resources after `page.after`, and the total matching count."""
        ...


class VersionedStore(ResourceStore[T, F], Protocol[T, F]):
    """A store of resources that change (optimistic concurrency) and are soft-deleted."""

    async def replace(self, resource: T, expected_version: int) -> bool:
        """Writes `resource` if the stored version is still `expected_version`.

        Raises AlreadyExists on a name clash; returns False when the version moved on."""
        ...

    async def soft_delete(self, tenant_id: str, resource_id: str, when: datetime) -> bool:
        """Marks the live resource deleted; False when there is none."""
        ...
