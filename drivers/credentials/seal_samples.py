"""One stored secret per master-key version, for the start-up master-key check
(engines/credentials/master_key_check.py): two small indexed queries per version in use."""

from __future__ import annotations

import sqlalchemy as sa

from drivers.credentials.store import secret_from_row
from drivers.kernel.database import Database
from drivers.tables.credentials import credential_secrets
from engines.credentials.master_key_check import KeyVersionSample
from engines.credentials.vault import EXTERNAL_KEY_VERSION

__all__ = ["SqlSealSamples"]


class SqlSealSamples:
    """SealSamples over the credential_secrets table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def one_per_key_version(self) -> list[KeyVersionSample]:
        table = credential_secrets
        counts = (
            sa.select(table.c.key_version, sa.func.count())
            .where(table.c.key_version != EXTERNAL_KEY_VERSION)  # kept in OpenBao KV, not sealed
            .group_by(table.c.key_version)
        )
        samples = []
        async with self._db.read() as conn:
            for key_version, secrets in (await conn.execute(counts)).all():
                row = (await conn.execute(
                    sa.select(table).where(table.c.key_version == key_version)
                    .order_by(table.c.credential_id, table.c.version).limit(1)
                )).one()
                samples.append(KeyVersionSample(int(key_version), int(secrets), secret_from_row(row)))
        return samples
