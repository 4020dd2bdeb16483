"""`drivers.kernel.database.Database` when PostgreSQL is down, refusing connections, or back again: every
failure to reach it is `Unavailable` (UNAVAILABLE to callers), and the same pool works again once
the server returns."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa

from drivers.kernel.database import Database
from engines.kernel.errors import Unavailable
from tests.private_postgres import PrivatePostgres


async def _select_one(database: Database) -> object:
    async with database.transaction() as conn:
        return (await conn.execute(sa.text("SELECT 1"))).scalar()


async def test_stopped_server_is_unavailable_and_the_same_pool_recovers(
    private_postgres_cluster: PrivatePostgres,
) -> None:
    database = Database(private_postgres_cluster.url(), pool_size=2)
    try:
        assert await _select_one(database) == 1  # a pooled connection, soon a dead one
        await asyncio.to_thread(private_postgres_cluster.stop)
        for _ in range(3):  # the dead pooled connection, then refused new ones
            with pytest.raises(Unavailable):
                await _select_one(database)
        assert await database.ping() is False
        await asyncio.to_thread(private_postgres_cluster.start)
        assert await _select_one(database) == 1
        assert await database.ping() is True
        assert await database.pool_in_use() == 0
    finally:
        await database.dispose()


async def test_refused_connection_slot_is_unavailable(
    private_postgres_cluster: PrivatePostgres,
) -> None:
    # "too many connections" (SQLSTATE 53300) arrives as a plain DBAPIError, like "the database
    # system is starting up" (57P03) during a restart; both must be UNAVAILABLE, not INTERNAL.
    admin = await asyncpg.connect(private_postgres_cluster.dsn(), timeout=5)
    try:
        await admin.execute("CREATE ROLE no_slots LOGIN CONNECTION LIMIT 0")
    finally:
        await admin.close()
    url = private_postgres_cluster.url().replace("postgres@", "no_slots@")
    database = Database(url)
    try:
        with pytest.raises(Unavailable):
            await _select_one(database)
    finally:
        await database.dispose()
