"""Looks for plaintext secrets where they must never be: the database (file bytes for SQLite,
every row of every table for PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from drivers.kernel.database import Database
from drivers.tables import metadata

__all__ = ["secrets_in_database"]


async def secrets_in_database(database_url: str, secrets: Iterable[str]) -> list[str]:
    """The secrets found in the database (empty when none is)."""
    wanted = [s for s in secrets if s]
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        db_file = Path(url.database or "")
        stored = b"".join(p.read_bytes() for p in db_file.parent.glob(f"{db_file.name}*"))
        assert stored, f"nothing to scan at {db_file}"
        return [s for s in wanted if s.encode() in stored]
    database = Database(database_url)
    try:
        async with database.read() as conn:
            dumped = [
                str(row)
                for table in metadata.sorted_tables
                for row in (await conn.execute(sa.text(f"SELECT t::text FROM {table.name} t")))
            ]
    finally:
        await database.dispose()
    text = "\n".join(dumped)
    return [s for s in wanted if s in text]
