"""TenantRepository's `remember`: the same resource for an equal row, bounded, and never for a
row it cannot key (an unhashable value)."""

from __future__ import annotations

from datetime import timedelta

from drivers.integrations.store import SqlIntegrationStore, row_to_integration
from drivers.kernel.database import Database
from drivers.kernel.repository import TenantRepository
from drivers.tables.integrations import integrations
from engines.kernel.pagination import parse_page
from tests.drivers.test_integration_store import T0, _integration
from tests.support import new_tenant


async def test_rows_with_a_json_value_are_never_remembered(database: Database) -> None:
    original = _integration(new_tenant(), "json")
    await SqlIntegrationStore(database).insert(original, None)
    rows = TenantRepository(  # config read as JSON: a dict, so the row is unhashable
        database, integrations, row_to_integration, resource="x", clash=None, remember=8
    )
    first = await rows.get(original.tenant_id, original.id)
    second = await rows.get(original.tenant_id, original.id)
    assert first == second == original and first is not second


async def test_at_most_remember_rows_are_kept(database: Database) -> None:
    tenant = new_tenant()
    writer = SqlIntegrationStore(database)
    made = [_integration(tenant, f"r{i}", T0 + timedelta(seconds=i)) for i in range(3)]
    for integration in made:
        await writer.insert(integration, None)
    rows = TenantRepository(
        database, integrations, row_to_integration, resource="x", clash=None, remember=2,
        select=SqlIntegrationStore(database)._rows._select,
    )
    page = parse_page(2, "", {})
    two, _ = await rows.list(tenant, page)  # the page's 2 rows and the one past it
    assert [i.id for i in two] == [i.id for i in made]
    assert len(rows._remembered) == 2  # the oldest stored, the first row, was dropped
    assert await rows.get(tenant, made[2].id) is two[2]
    assert await rows.get(tenant, made[1].id) is two[1]
    first = await rows.get(tenant, made[0].id)
    assert first == two[0] and first is not two[0]
