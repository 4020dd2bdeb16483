"""Applies Alembic migrations (every head) to the service's database.

A database already at every head (`drivers/migrations/heads.HEADS`) is left alone after one
read of its version table, and Alembic is then never imported: it is the largest part of a
restart's import time. Anything else (a new database, an older or unknown version) goes to
Alembic, which migrates it or refuses."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from drivers.kernel.database import Database
from drivers.migrations.heads import HEADS

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["at_heads", "upgrade"]

_MIGRATIONS = Path(__file__).parent.parent / "migrations"
_LOCK_KEY = 0x1A7E_6A71


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _versions(sync: Connection) -> frozenset[str]:
    """The revisions in `alembic_version` (none when there is no such table)."""
    if not sa.inspect(sync).has_table("alembic_version"):
        return frozenset()
    return frozenset(sync.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())


async def at_heads(database: Database) -> bool:
    """Whether the database's schema is at exactly this build's heads."""
    async with database.read() as conn:
        return await conn.run_sync(_versions) == HEADS


async def upgrade(database: Database) -> None:
    """Brings the schema to the newest revision of every migration branch."""
    if await at_heads(database):
        return
    from alembic import command

    async with database.transaction() as conn:
        if not database.is_sqlite:
            # Replicas starting together on one PostgreSQL take turns migrating.
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), "heads"))
