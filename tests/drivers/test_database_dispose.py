"""`Database.dispose` gives borrowers a moment to return their connections before closing the
pools: a connection returned to a pool already disposed is never closed (only garbage
collection drops its socket, with a ResourceWarning)."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import sqlalchemy as sa

from drivers.kernel.database import Database


async def test_dispose_waits_for_a_borrowed_connection(database_url: str) -> None:
    database = Database(database_url)
    order: list[str] = []
    borrowed = asyncio.Event()

    async def borrower() -> None:
        async with database.transaction() as conn:
            await conn.execute(sa.text("SELECT 1"))
            borrowed.set()
            await asyncio.sleep(0.3)
        order.append("returned")

    task = asyncio.create_task(borrower())
    await borrowed.wait()
    await database.dispose()
    order.append("disposed")
    await task
    assert order == ["returned", "disposed"]
    assert await database.pool_in_use() == 0


async def test_dispose_does_not_wait_forever_for_a_borrower(database_url: str) -> None:
    database = Database(database_url)
    release = asyncio.Event()
    borrowed = asyncio.Event()

    async def borrower() -> None:
        async with database.read() as conn:
            await conn.execute(sa.text("SELECT 1"))
            borrowed.set()
            await release.wait()
            await conn.invalidate()  # closed here: returned now, the disposed pool would leak it

    task = asyncio.create_task(borrower())
    await borrowed.wait()
    await database.dispose(settle_seconds=0.2)
    assert not task.done()  # dispose returned although the borrower still holds its connection
    release.set()
    await task
    await database.dispose()


async def test_a_cancel_while_a_connection_opens_leaks_nothing(database_url: str) -> None:
    """Cancelled at many points of opening a new pooled connection: every connection is
    closed (an unclosed socket would fail the test as an unraisable ResourceWarning)."""
    for step in range(60):
        database = Database(database_url)  # an empty pool: every checkout opens a connection

        async def borrow(db: Database = database) -> None:
            async with db.read() as conn:
                await conn.execute(sa.text("SELECT 1"))

        task = asyncio.create_task(borrow())
        await asyncio.sleep(step * 0.0003)  # lets the connect advance to a later point
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await database.dispose()
    gc.collect()
