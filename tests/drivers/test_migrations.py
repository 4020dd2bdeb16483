"""The hand-written migrations produce exactly the tables the code declares, on both backends;
`drivers/migrations/heads.py` names their heads, and a database at those is not migrated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from drivers.kernel import migrator
from drivers.kernel.database import Database
from drivers.migrations.heads import HEADS
from drivers.tables import metadata
from tests.drivers.test_credential_destinations_migration import fresh

__all__ = ["fresh"]  # the fixture, shared

ROOT = Path(__file__).resolve().parents[2]


async def test_migrated_schema_matches_the_declared_tables(database: Database) -> None:
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(context, metadata)

    async with database.transaction() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def test_heads_are_those_of_the_migration_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "drivers" / "migrations"))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    assert heads == HEADS, f"drivers/migrations/heads.py must list exactly {sorted(heads)}"


async def test_a_database_at_the_heads_is_not_handed_to_alembic(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await migrator.at_heads(database)

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("Alembic ran on a database already at its heads")

    monkeypatch.setattr(command, "upgrade", refuse)
    await migrator.upgrade(database)


async def test_a_new_database_is_migrated_to_the_heads(fresh: Database) -> None:
    assert not await migrator.at_heads(fresh)
    await migrator.upgrade(fresh)
    assert await migrator.at_heads(fresh)


def test_starting_the_service_imports_no_alembic() -> None:
    """The import half of a restart: Alembic is imported only when a migration must run."""
    probe = "import sys, service.cli; print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
