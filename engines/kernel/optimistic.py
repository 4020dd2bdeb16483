"""Optimistic concurrency shared by Update RPCs: the etag of a version, etag check, conditional
write, re-read and re-apply when a concurrent writer got there first."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from engines.kernel.errors import Aborted

__all__ = ["Versioned", "check_etag", "version_etag", "write_with_retry"]

_ATTEMPTS = 20


def version_etag(key: str, version: int) -> str:
    """The opaque etag of version `version` of the resource identified by `key` (its id)."""
    return hashlib.sha256(f"{key}:{version}".encode()).hexdigest()[:20]


class Versioned(Protocol):
    """A stored resource with a version counter and the etag derived from it."""

    @property
    def version(self) -> int: ...

    @property
    def etag(self) -> str: ...


V = TypeVar("V", bound=Versioned)


def check_etag(current: Versioned, etag: str, *, resource: str) -> None:
    """ABORTED when a non-empty `etag` is not `current`'s (deletes call it; updates get it from
    `write_with_retry`)."""
    if etag and etag != current.etag:
        raise Aborted(
            f"etag {etag!r} is stale: the {resource} changed since it was read; "
            "read it again and retry"
        )


def _version(resource: Versioned) -> int:
    return resource.version


async def write_with_retry(
    current: V,
    etag: str,
    *,
    resource: str,
    apply: Callable[[V], V],
    save: Callable[[V, int], Awaitable[bool]],
    reload: Callable[[], Awaitable[V]],
    expected: Callable[[V], int] = _version,
    unless: Callable[[V], bool] | None = None,
) -> V:
    """Writes `apply(current)` if the stored version (`expected(current)`) is still current's.

    Callers validate the change first, so bad input is INVALID_ARGUMENT whatever the etag; then
    a non-empty stale `etag` is ABORTED, here and nowhere else. Without an etag the caller
    accepts last-writer-wins, but a write still never overwrites a concurrent one it did not
    see: re-read and re-apply. When `unless(latest)` holds, nothing is written and the latest is
    returned (a change already in place)."""
    check_etag(current, etag, resource=resource)
    for _ in range(_ATTEMPTS):
        if unless is not None and unless(current):
            return current
        updated = apply(current)
        if await save(updated, expected(current)):
            return updated
        if etag:
            raise Aborted(f"the {resource} changed concurrently; read it again and retry")
        current = await reload()
    raise Aborted(f"the {resource} is being changed too often; retry later")
