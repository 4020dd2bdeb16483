"""The hand-written migration 0002 creates exactly the credential tables of drivers/tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from drivers.database import Database
from drivers.tables import metadata

CREDENTIAL_TABLES = {"credentials", "credential_secrets", "credential_access_events"}


def _table_of(diff: object) -> str | None:
    if isinstance(diff, list):  # column modifications come as lists of tuples
        return _table_of(diff[0])
    for part in diff:  # type: ignore[attr-defined]
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if isinstance(part, str) and part in CREDENTIAL_TABLES:
            return part
        if name in CREDENTIAL_TABLES:
            return str(name)
    return None


async def test_migration_matches_tables(database: Database) -> None:
    async with database.transaction() as conn:
        diffs = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    ours = [d for d in diffs if _table_of(d) in CREDENTIAL_TABLES]
    assert ours == []
