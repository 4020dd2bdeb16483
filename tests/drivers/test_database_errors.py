"""`Database` reports only outages as `Unavailable`: a value error of the database (SQLite's
integer overflow in sum(), PostgreSQL's numeric out of range) passes through as what it is."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from drivers.kernel.database import Database
from engines.kernel.errors import Unavailable

_OVERFLOW = {
    "sqlite": "SELECT sum(x) FROM (SELECT 9223372036854775807 AS x UNION ALL "
    "SELECT 9223372036854775807)",
    "postgresql": "SELECT 9223372036854775807::bigint + 1",
}


async def test_integer_overflow_is_not_an_outage(database: Database, backend: str) -> None:
    for open_connection in (database.read, database.transaction):
        with pytest.raises(DBAPIError) as caught:
            async with open_connection() as conn:
                await conn.execute(sa.text(_OVERFLOW[backend]))
        assert not isinstance(caught.value, Unavailable)
        assert "overflow" in str(caught.value.orig) or "out of range" in str(caught.value.orig)
    assert await database.ping() is True


async def test_a_locked_sqlite_database_is_an_outage(tmp_path: object) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/locked.db"
    holder, waiter = Database(url), Database(url)
    try:
        async with holder.transaction() as conn:
            await conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        async with holder.transaction() as conn:
            await conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            with pytest.raises(Unavailable):
                async with waiter.transaction() as other:
                    await other.execute(sa.text("PRAGMA busy_timeout=0"))
                    await other.execute(sa.text("INSERT INTO t VALUES (2)"))
    finally:
        await holder.dispose()
        await waiter.dispose()
