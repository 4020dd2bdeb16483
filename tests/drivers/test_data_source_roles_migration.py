"""Migration 0018 on a database that already holds data sources: their `access_roles` become
role rows, so the roles they were given are enforced from the first list after the upgrade."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa

from drivers.data_sources.store import SqlDataSourceStore
from drivers.kernel import migrator
from drivers.kernel.database import Database
from engines.data_sources.data_source import DataSourceFilters
from engines.kernel.pagination import PageRequest
from tests.drivers.test_credential_destinations_migration import _upgrade_to, fresh

__all__ = ["fresh"]  # the fixture, shared with the other migration test

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)


async def _insert_source(database: Database, tenant: str, name: str, roles: str) -> str:
    source_id = str(uuid.uuid4())
    async with database.transaction() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO data_sources (id, tenant_id, name, source_type, status, config, "
                "password_ref, api_key_ref, description, tags, metadata, owner_id, access_roles, "
                "last_error, connection_count, error_count, create_time, update_time, version) "
                "VALUES (:id, :t, :name, 'database', 'pending', '{}', '', '', '', '[]', '{}', '', "
                ":roles, '', 0, 0, :now, :now, 1)"
            ),
            {"id": source_id, "t": tenant, "name": name, "roles": roles, "now": NOW},
        )
    return source_id


async def test_existing_access_roles_are_enforced_after_the_upgrade(fresh: Database) -> None:
    tenant = str(uuid.uuid4())
    await _upgrade_to(fresh, "0004_connectors_data_sources")
    open_id = await _insert_source(fresh, tenant, "open", "[]")
    finance_id = await _insert_source(fresh, tenant, "ledger", '["finance", "audit"]')
    await migrator.upgrade(fresh)

    store = SqlDataSourceStore(fresh)
    page = PageRequest(size=10, after=None, filters_digest="")

    async def visible(roles: frozenset[str] | None) -> set[str]:
        rows, total = await store.list(tenant, DataSourceFilters(roles=roles), page)
        assert total == len(rows)
        return {row.id for row in rows}

    assert await visible(frozenset()) == {open_id}
    assert await visible(frozenset({"audit"})) == {open_id, finance_id}
    assert await visible(None) == {open_id, finance_id}
    stored = await store.get(tenant, finance_id)
    assert stored is not None and stored.access_roles == ("finance", "audit")
