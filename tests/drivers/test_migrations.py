"""The hand-written migrations produce exactly the tables the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from drivers.kernel.database import Database
from drivers.tables import metadata


async def test_migrated_schema_matches_the_declared_tables(database: Database) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(context, metadata)

    async with database.transaction() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
