"""The SQL every tenant-owned resource table shares, always scoped by tenant_id: get, insert with
an idempotent re-read (AIP-155: request_id and request digest), update with a version check, soft
delete, and keyset pages with an optional count. Stores build one `TenantRepository` per table
and declare only their extra queries.

Tables are made by `drivers.tables.base.resource_table`. Reads go through `Database.read()` (an
autocommit connection: no BEGIN/COMMIT round trips); a page and its count come from one query,
so one snapshot. Writes go through `Database.transaction()`."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from drivers.kernel.database import Database
from drivers.kernel.keyset import keyset_statement, keyset_values, page_of
from engines.kernel.errors import AlreadyExists
from engines.kernel.idempotency import IdempotencyKey, Replay
from engines.kernel.pagination import PageRequest

__all__ = ["AfterWrite", "RepositoryStore", "TenantRepository"]

T = TypeVar("T")
AfterWrite = Callable[[AsyncConnection], Awaitable[None]]
Condition = sa.ColumnElement[bool]
_PREBUILT_SHAPES = 64  # (conditions, after) combinations whose list statements are kept


class TenantRepository(Generic[T]):
    """Rows of one table, read as engine dataclasses made by `to_resource`.

    `resource` names them in errors, as the engine does. `clash` is the AlreadyExists message
    of a unique-index violation other than a replayed request_id (None: such a violation is a
    bug and propagates). `select` replaces `SELECT table` for reads that join more (its columns
    feed `to_resource`).

    `remember` > 0 keeps the resources made from that many distinct rows (oldest dropped first)
    and hands out the same resource again for a row read again with equal values in every
    selected column, so callers may memoize work per resource object (a List encodes each
    message once). The key is the whole row, not (id, version): columns written without a
    version bump (health) still make a new resource. Rows with an unhashable value (a JSON
    column not selected as text) are never remembered.

    `changed(tenant_id)` is called after every write transaction of a tenant's rows ends,
    committed or not, before the write returns (a cache of those rows drops them)."""

    def __init__(
        self,
        database: Database,
        table: sa.Table,
        to_resource: Callable[[Any], T],
        *,
        resource: str,
        clash: str | None,
        select: sa.Select[Any] | None = None,
        newest_first: bool = False,
        remember: int = 0,
        changed: Callable[[str], None] | None = None,
    ) -> None:
        self._db = database
        self._changed = changed
        self.table = table
        self._to_resource = to_resource
        self._resource = resource
        self._clash = clash
        self._select = select if select is not None else sa.select(table)
        self._newest_first = newest_first
        self._soft_deleted = "delete_time" in table.c
        self._remember = remember
        self._remembered: OrderedDict[tuple[Any, ...], T] = OrderedDict()
        self._width = len(self._select.selected_columns)  # a page's rows add total_count
        # List statements built once per (continues after a key, conditions), the conditions
        # keyed by identity; each entry holds its conditions, so their ids are not reused.
        self._prebuilt: dict[tuple[int, ...], tuple[Any, Any, tuple[Condition, ...]]] = {}
        self.live: list[Condition] = [table.c.delete_time.is_(None)] if self._soft_deleted else []
        # Built once: the hot read path then skips constructing the expression on every call.
        self._get = self._select.where(
            table.c.tenant_id == sa.bindparam("tenant_id"),
            table.c.id == sa.bindparam("resource_id"),
            *self.live,
        )

    def _key(self, tenant_id: str, resource_id: str) -> list[Condition]:
        return [self.table.c.tenant_id == tenant_id, self.table.c.id == resource_id]

    async def get(self, tenant_id: str, resource_id: str) -> T | None:
        """The tenant's live resource, None when missing, deleted or another tenant's."""
        async with self._db.read() as conn:
            params = {"tenant_id": tenant_id, "resource_id": resource_id}
            row = (await conn.execute(self._get, params)).first()
        return self._resource_of(row) if row else None

    def _resource_of(self, row: Any) -> T:
        """`to_resource(row)`, or the resource an equal row made before (`remember`)."""
        if not self._remember:
            return self._to_resource(row)
        key = tuple(row)[: self._width]
        try:
            resource = self._remembered.get(key)
        except TypeError:  # an unhashable value: nothing to remember it by
            return self._to_resource(row)
        if resource is None:
            resource = self._to_resource(row)
            if len(self._remembered) >= self._remember:
                self._remembered.popitem(last=False)  # O(1), unlike a dict's first key
            self._remembered[key] = resource
        return resource

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[T] | None:
        """What the tenant's create with `request_id` made, deleted ones included (a retried
        create must not resurrect a deleted resource), with its request digest."""
        query = self._select.where(
            self.table.c.tenant_id == tenant_id, self.table.c.request_id == request_id
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return Replay(
            resource=self._to_resource(row),
            resource_id=row.id,
            request_digest=row.request_digest,
            deleted=self._soft_deleted and row.delete_time is not None,
        )

    async def insert(
        self,
        resource: T,
        values: Mapping[str, Any],
        key: IdempotencyKey | None,
        after: AfterWrite | None = None,
    ) -> T:
        """Inserts `values` with `key` (and runs `after` in the same transaction); returns
        `resource`, or, when an earlier create with the same request_id won a race, what
        `key.replay` answers for it."""
        idempotency = {
            "request_id": key.request_id if key else None,
            "request_digest": key.digest if key else None,
        }
        try:
            async with self._writing(values["tenant_id"]) as conn:
                await conn.execute(self.table.insert().values(**values, **idempotency))
                if after is not None:
                    await after(conn)
        except IntegrityError:
            if key is not None:
                earlier = await self.find_by_request_id(values["tenant_id"], key.request_id)
                if earlier is not None:
                    return key.replay(earlier, resource=self._resource)
            if self._clash is None:
                raise
            raise AlreadyExists(self._clash) from None
        return resource

    async def update(
        self,
        tenant_id: str,
        resource_id: str,
        expected_version: int,
        values: Mapping[str, Any],
        after: AfterWrite | None = None,
    ) -> bool:
        """Writes `values` (and runs `after`) if the live row is still at `expected_version`;
        False otherwise. A unique-index violation is AlreadyExists."""
        version = self.table.c.version == expected_version
        conditions = self._key(tenant_id, resource_id) + [version]
        return await self._update(tenant_id, conditions, values, after)

    async def update_live(
        self,
        tenant_id: str,
        resource_id: str,
        values: Mapping[str, Any],
        *conditions: Condition,
        after: AfterWrite | None = None,
    ) -> bool:
        """Writes `values` to the live row whatever its version (outcomes, counters) and bumps
        the version; False when there is no such row."""
        bumped = {**values, "version": self.table.c.version + 1}
        where = [*self._key(tenant_id, resource_id), *conditions]
        return await self._update(tenant_id, where, bumped, after)

    async def soft_delete(
        self, tenant_id: str, resource_id: str, when: datetime, after: AfterWrite | None = None
    ) -> bool:
        """Marks the live row deleted at `when` (and runs `after`); False when there is none."""
        values = {"delete_time": when, "update_time": when}
        return await self.update_live(tenant_id, resource_id, values, after=after)

    @contextlib.asynccontextmanager
    async def _writing(self, tenant_id: str) -> AsyncIterator[AsyncConnection]:
        """A write transaction on the tenant's rows, then `changed(tenant_id)`."""
        try:
            async with self._db.transaction() as conn:
                yield conn
        finally:
            if self._changed is not None:
                self._changed(tenant_id)

    async def _update(
        self,
        tenant_id: str,
        conditions: list[Condition],
        values: Mapping[str, Any],
        after: AfterWrite | None,
    ) -> bool:
        statement = self.table.update().where(*conditions, *self.live).values(**values)
        try:
            async with self._writing(tenant_id) as conn:
                updated = (await conn.execute(statement)).rowcount == 1
                if updated and after is not None:
                    await after(conn)
        except IntegrityError:
            if self._clash is None:
                raise
            raise AlreadyExists(self._clash) from None
        return updated

    def _where(self, tenant_id: str, conditions: Sequence[Condition]) -> list[Condition]:
        return [self.table.c.tenant_id == tenant_id, *self.live, *conditions]

    def _page_query(self, tenant_id: str, page: PageRequest, conditions: Sequence[Condition]) -> Any:
        return page_of(
            self._select.where(*self._where(tenant_id, conditions)),
            self.table,
            page,
            descending=self._newest_first,
        )

    def _count_query(self, tenant_id: str, conditions: Sequence[Condition]) -> Any:
        where = self._where(tenant_id, conditions)
        return sa.select(sa.func.count()).select_from(self.table).where(*where)

    async def page(self, tenant_id: str, page: PageRequest, *conditions: Condition) -> list[T]:
        """Up to `page.size + 1` live rows matching `conditions` after `page.after`, in keyset
        order (oldest first unless the repository lists newest first)."""
        async with self._db.read() as conn:
            rows = (await conn.execute(self._page_query(tenant_id, page, conditions))).all()
        return [self._resource_of(row) for row in rows]

    async def count(self, tenant_id: str, *conditions: Condition) -> int:
        """How many live rows of the tenant match `conditions`."""
        async with self._db.read() as conn:
            return int((await conn.execute(self._count_query(tenant_id, conditions))).scalar_one())

    async def list(
        self,
        tenant_id: str,
        page: PageRequest,
        *conditions: Condition,
        values: Mapping[str, Any] | None = None,
    ) -> tuple[list[T], int]:
        """One page and the total matching count in one query (one round trip): the count is
        an uncorrelated scalar subquery, which PostgreSQL evaluates once; only an empty page
        needs a second query for it.

        With `values` (or no conditions), the conditions compare with bound parameters named
        in `values` (not tenant_id, after_time, after_id or page_limit), and are the same
        objects on every call (module constants): the statements are then built once per
        combination and only the values change. Without, they are built on every call."""
        if conditions and values is None:
            listed = self._page_and_count_query(tenant_id, page, conditions)
            counted = self._count_query(tenant_id, conditions)
            params: dict[str, Any] = {}
        else:
            listed, counted = self._prebuilt_statements(conditions, page.after is not None)
            params = {"tenant_id": tenant_id, **keyset_values(page), **(values or {})}
        async with self._db.read() as conn:
            rows = (await conn.execute(listed, params)).all()
            if rows:
                total = rows[0].total_count
            else:
                total = (await conn.execute(counted, params)).scalar_one()
        return [self._resource_of(row) for row in rows], int(total)

    def _prebuilt_statements(
        self, conditions: Sequence[Condition], after: bool
    ) -> tuple[Any, Any]:
        key = (after, *map(id, conditions))
        found = self._prebuilt.get(key)
        if found is None:
            where = [self.table.c.tenant_id == sa.bindparam("tenant_id"), *self.live, *conditions]
            count = sa.select(sa.func.count()).select_from(self.table).where(*where)
            listed = keyset_statement(
                self._select.where(*where), self.table, after=after, descending=self._newest_first
            ).add_columns(count.scalar_subquery().label("total_count"))
            found = (listed, count, tuple(conditions))
            if len(self._prebuilt) < _PREBUILT_SHAPES:
                self._prebuilt[key] = found
        return found[0], found[1]

    def _page_and_count_query(
        self, tenant_id: str, page: PageRequest, conditions: Sequence[Condition]
    ) -> Any:
        total = self._count_query(tenant_id, conditions).scalar_subquery().label("total_count")
        return self._page_query(tenant_id, page, conditions).add_columns(total)


class RepositoryStore(Generic[T]):
    """Base of a store over one repository (`self._rows`): `get` and `find_by_request_id` are
    the repository's own; the store adds the rest."""

    _rows: TenantRepository[T]

    async def get(self, tenant_id: str, resource_id: str) -> T | None:
        return await self._rows.get(tenant_id, resource_id)

    async def find_by_request_id(self, tenant_id: str, request_id: str) -> Replay[T] | None:
        return await self._rows.find_by_request_id(tenant_id, request_id)
