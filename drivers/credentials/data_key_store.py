"""SQL implementation of `engines.credentials.envelope_keyring.DataKeyStore`: wrapped per-tenant data keys in
the service's database, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from drivers.kernel.database import Database
from drivers.tables.data_keys import tenant_data_keys
from engines.credentials.envelope_keyring import WrappedDataKey
from engines.kernel.clock import Clock, system_clock

__all__ = ["SqlDataKeyStore"]

_table = tenant_data_keys


def _to_key(row: Any) -> WrappedDataKey:
    return WrappedDataKey(
        tenant_id=row.tenant_id,
        wrapped=row.wrapped,
        kms_key=row.kms_key,
        kms_version=row.kms_version,
        create_time=row.create_time,
        update_time=row.update_time,
    )


class SqlDataKeyStore:
    """One row per tenant; the first insert wins, later ones find it."""

    def __init__(self, database: Database, *, clock: Clock = system_clock) -> None:
        self._db = database
        self._clock = clock

    async def get(self, tenant_id: str) -> WrappedDataKey | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(_table).where(_table.c.tenant_id == tenant_id))).first()
        return _to_key(row) if row else None

    async def insert(self, key: WrappedDataKey) -> bool:
        try:
            async with self._db.transaction() as conn:
                await conn.execute(
                    _table.insert().values(
                        tenant_id=key.tenant_id,
                        kms_key=key.kms_key,
                        kms_version=key.kms_version,
                        wrapped=key.wrapped,
                        create_time=key.create_time,
                        update_time=key.update_time,
                    )
                )
        except IntegrityError:
            return False
        return True

    async def older_than(
        self, kms_key: str, kms_version: int, after: str | None, limit: int
    ) -> Sequence[WrappedDataKey]:
        query = sa.select(_table).where(
            _table.c.kms_key == kms_key, _table.c.kms_version < kms_version
        )
        if after is not None:
            query = query.where(_table.c.tenant_id > after)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.order_by(_table.c.tenant_id).limit(limit))).all()
        return [_to_key(row) for row in rows]

    async def replace(self, key: WrappedDataKey, wrapped: str, kms_version: int) -> bool:
        async with self._db.transaction() as conn:
            result = await conn.execute(
                _table.update()
                .where(_table.c.tenant_id == key.tenant_id, _table.c.wrapped == key.wrapped)
                .values(wrapped=wrapped, kms_version=kms_version, update_time=self._clock())
            )
        return result.rowcount == 1
