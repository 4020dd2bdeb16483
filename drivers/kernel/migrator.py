"""Applies Alembic migrations (every head) to the service's database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from drivers.kernel.database import Database

__all__ = ["upgrade"]

_MIGRATIONS = Path(__file__).parent.parent / "migrations"
_LOCK_KEY = 0x1A7E_6A71


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(database: Database) -> None:
    """Brings the schema to the newest revision of every migration branch."""
    async with database.transaction() as conn:
        if not database.is_sqlite:
            # Replicas starting together on one PostgreSQL take turns migrating.
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        await conn.run_sync(lambda sync: command.upgrade(_config(sync), "heads"))
