"""The SQL every tenant-owned, soft-deleted, versioned resource table shares: idempotent insert,
live reads, keyset lists, conditional replace and soft delete, always scoped by tenant_id.

Tables need the columns id, tenant_id, request_id, create_time, delete_time and version, a unique
index on the live (tenant_id, name) and one on (tenant_id, request_id)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.database import Database
from drivers.keyset import page_of
from engines.errors import AlreadyExists
from engines.pagination import PageRequest

__all__ = ["AfterWrite", "TenantRows"]

T = TypeVar("T")
AfterWrite = Callable[[AsyncConnection], Awaitable[None]]


class TenantRows(Generic[T]):
    """Reads and writes rows of one table as engine dataclasses made by `to_resource`."""

    def __init__(
        self,
        database: Database,
        table: sa.Table,
        to_resource: Callable[[Any], T],
        *,
        name_clash: str,
    ) -> None:
        self._db = database
        self.table = table
        self._to_resource = to_resource
        self._name_clash = name_clash
        self.live = table.c.delete_time.is_(None)

    def _key(self, tenant_id: str, resource_id: str) -> list[sa.ColumnElement[bool]]:
        return [self.table.c.tenant_id == tenant_id, self.table.c.id == resource_id]

    async def insert(
        self, values: Mapping[str, Any], request_id: str | None, after: AfterWrite | None = None
    ) -> T | None:
        """Inserts a row (and runs `after` in the same transaction). Returns None when stored,
        or the resource an earlier create with `request_id` made; a live name clash raises
        AlreadyExists."""
        try:
            async with self._db.transaction() as conn:
                await conn.execute(self.table.insert().values(**values, request_id=request_id))
                if after is not None:
                    await after(conn)
        except IntegrityError:
            if request_id is not None:
                earlier = await self.find_by_request_id(values["tenant_id"], request_id)
                if earlier is not None:
                    return earlier
            raise AlreadyExists(self._name_clash) from None
        return None

    async def get(self, tenant_id: str, resource_id: str) -> T | None:
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(self.table).where(*self._key(tenant_id, resource_id), self.live)
                )
            ).first()
        return self._to_resource(row) if row else None

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> T | None:
        # Deleted ones count too: a retried create must not resurrect a deleted resource.
        async with self._db.transaction() as conn:
            row = (
                await conn.execute(
                    sa.select(self.table).where(
                        self.table.c.tenant_id == tenant_id,
                        self.table.c.request_id == request_id,
                    )
                )
            ).first()
        return self._to_resource(row) if row else None

    async def list(
        self,
        tenant_id: str,
        conditions: Sequence[sa.ColumnElement[bool]],
        page: PageRequest,
    ) -> tuple[Sequence[T], int]:
        """One page of live rows matching `conditions`, and the total matching count."""
        where = [self.table.c.tenant_id == tenant_id, self.live, *conditions]
        async with self._db.transaction() as conn:
            rows = (
                await conn.execute(page_of(sa.select(self.table).where(*where), self.table, page))
            ).all()
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(self.table).where(*where))
            ).scalar_one()
        return [self._to_resource(r) for r in rows], int(total)

    async def replace(
        self,
        tenant_id: str,
        resource_id: str,
        expected_version: int,
        values: Mapping[str, Any],
        after: AfterWrite | None = None,
    ) -> bool:
        """Writes `values` if the live row is still at `expected_version`; False otherwise."""
        try:
            async with self._db.transaction() as conn:
                result = await conn.execute(
                    self.table.update()
                    .where(
                        *self._key(tenant_id, resource_id),
                        self.table.c.version == expected_version,
                        self.live,
                    )
                    .values(**values)
                )
                if result.rowcount == 1 and after is not None:
                    await after(conn)
        except IntegrityError:
            raise AlreadyExists(self._name_clash) from None
        return bool(result.rowcount == 1)

    async def update_live(
        self,
        tenant_id: str,
        resource_id: str,
        values: Mapping[str, Any],
        *conditions: sa.ColumnElement[bool],
    ) -> bool:
        """An unconditional-version update of a live row (counters, outcomes); bumps version."""
        async with self._db.transaction() as conn:
            result = await conn.execute(
                self.table.update()
                .where(*self._key(tenant_id, resource_id), self.live, *conditions)
                .values(**values, version=self.table.c.version + 1)
            )
        return bool(result.rowcount == 1)

    async def soft_delete(self, tenant_id: str, resource_id: str, when: datetime) -> bool:
        return await self.update_live(
            tenant_id, resource_id, {"delete_time": when, "update_time": when}
        )
