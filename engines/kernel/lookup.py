"""Reading one resource of a tenant by id: the lookup every Get-style engine method shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from engines.kernel.errors import NotFound
from engines.kernel.validation import require_uuid

__all__ = ["find_owned"]

T = TypeVar("T")


async def find_owned(
    get: Callable[[str, str], Awaitable[T | None]],
    tenant_id: str,
    resource_id: str,
    *,
    resource: str,
    id_field: str,
) -> T:
    """The tenant's resource; NotFound otherwise, with the same message whether it does not
    exist or belongs to another tenant. Malformed ids are INVALID_ARGUMENT naming the field."""
    tenant_id = require_uuid("tenant_id", tenant_id)
    found = await get(tenant_id, require_uuid(id_field, resource_id))
    if found is None:
        raise NotFound(resource, resource_id)
    return found
