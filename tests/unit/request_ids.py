"""The request_id index of an in-memory store, with the SQL stores' AIP-155 rules (shared by the
hand-written fakes)."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Generic, TypeVar

from engines.kernel.idempotency import IdempotencyKey, Replay

__all__ = ["RequestIds"]

T = TypeVar("T")


class RequestIds(Generic[T]):
    """(tenant, request_id) -> the resource id and request digest stored with it."""

    def __init__(self, resource: str) -> None:
        self._resource = resource
        self._keys: dict[tuple[str, str], tuple[str, str]] = {}

    def remember(self, tenant_id: str, resource_id: str, key: IdempotencyKey | None) -> None:
        if key is not None:
            self._keys[(tenant_id, key.request_id)] = (resource_id, key.digest)

    def find(
        self, tenant_id: str, request_id: str, rows: Mapping[str, T], deleted: Container[str] = ()
    ) -> Replay[T] | None:
        found = self._keys.get((tenant_id, request_id))
        if found is None:
            return None
        resource_id, digest = found
        return Replay(rows[resource_id], resource_id, digest, resource_id in deleted)

    def earlier(
        self,
        tenant_id: str,
        key: IdempotencyKey | None,
        rows: Mapping[str, T],
        deleted: Container[str] = (),
    ) -> T | None:
        """What an insert with `key` answers when the request_id is taken (None when free)."""
        found = None if key is None else self.find(tenant_id, key.request_id, rows, deleted)
        return None if found is None or key is None else key.replay(found, resource=self._resource)
