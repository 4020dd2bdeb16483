"""Migration 0010 on a database that already holds credentials and access events: they keep
everything, get no destinations (sent nowhere until their owner names some) and read as reveals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from drivers.credentials.store import SqlAccessLog, SqlCredentialStore
from drivers.kernel import migrator
from drivers.kernel.database import Database
from engines.credentials.vault import AccessKind
from engines.kernel.pagination import PageRequest
from tests.conftest import _create_pg_database, _drop_pg_database

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


@pytest.fixture
async def fresh(backend: str, tmp_path: Path, postgres_admin_url: str) -> AsyncIterator[Database]:
    """An empty database of the backend under test."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        try:
            url = await _create_pg_database(postgres_admin_url)
        except OSError:
            pytest.skip("PostgreSQL is not reachable")
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()
        if backend != "sqlite":
            await _drop_pg_database(postgres_admin_url, url)


async def _upgrade_to(database: Database, revision: str) -> None:
    async with database.transaction() as conn:
        await conn.run_sync(
            lambda sync: command.upgrade(migrator._config(sync), revision)
        )


async def test_existing_credentials_get_no_destinations(fresh: Database) -> None:
    tenant, credential_id = str(uuid.uuid4()), str(uuid.uuid4())
    await _upgrade_to(fresh, "0002_credentials")
    async with fresh.transaction() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO credentials (id, tenant_id, name, version, metadata, created_by, "
                "create_time, update_time) VALUES (:id, :t, 'old', 1, '{}', 'ops', :now, :now)"
            ),
            {"id": credential_id, "t": tenant, "now": NOW},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO credential_secrets (credential_id, version, tenant_id, key_version, "
                "sealed, create_time) VALUES (:id, 1, :t, 1, :blob, :now)"
            ),
            {"id": credential_id, "t": tenant, "blob": b"\x00" * 40, "now": NOW},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO credential_access_events (id, tenant_id, credential_id, "
                "credential_ref, caller, outcome, access_reason, detail, requester_tenant_id, "
                "create_time) VALUES (:e, :t, :id, 'cus-vault://x', 'ops', 'allowed', '', '', :t, "
                ":now)"
            ),
            {"e": str(uuid.uuid4()), "t": tenant, "id": credential_id, "now": NOW},
        )
    await migrator.upgrade(fresh)

    stored = await SqlCredentialStore(fresh).get(tenant, credential_id)
    assert stored is not None and (stored.name, stored.version) == ("old", 1)
    assert stored.allowed_destinations == ()
    page = PageRequest(size=10, after=None, filters_digest="")
    events, total = await SqlAccessLog(fresh).list(tenant, None, page)
    assert total == 1
    assert (events[0].kind, events[0].destination, events[0].rpc) == (AccessKind.REVEAL, "", "")
