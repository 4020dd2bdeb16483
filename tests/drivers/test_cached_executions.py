"""CachedExecutions on SQLite and PostgreSQL: ExecuteQuery's gateway and template read from memory
once found, a write through its stores drops that tenant's entries (and only those) before the
write returns, and a miss is answered but never remembered."""

from __future__ import annotations

import uuid
from dataclasses import replace

from drivers.kernel.database import Database
from drivers.sql_gateway.cached_executions import CachedExecutions
from tests.drivers.test_sql_gateway_store import NOW, _gateway, _template
from tests.support import new_tenant


def _new_id() -> str:
    return str(uuid.uuid4())  # gateway ids are unique across tenants



async def test_a_found_pair_is_remembered_until_a_write_of_its_tenant(database: Database) -> None:
    cached, tenant, other = CachedExecutions(database, ttl_seconds=3600), new_tenant(), new_tenant()
    gateway_id, other_gateway_id = _new_id(), _new_id()
    gateway = await cached.gateways.insert(_gateway(tenant, gateway_id, "g"), None)
    await cached.templates.insert(_template(tenant, "a"), None)
    await cached.gateways.insert(_gateway(other, other_gateway_id, "g"), None)
    await cached.templates.insert(_template(other, "a"), None)
    for reader, reader_gateway in ((tenant, gateway_id), (other, other_gateway_id)):
        assert (await cached.get_with_template(reader, reader_gateway, "a"))[1] is not None
    assert len(cached) == 2

    assert await cached.templates.soft_delete(tenant, "a", NOW)  # drops the tenant's entry
    assert len(cached) == 1  # the other tenant's stays
    assert await cached.get_with_template(tenant, gateway_id, "a") == (gateway, None)
    assert len(cached) == 1  # a miss is not remembered

    renamed = replace(gateway, name="renamed", version=gateway.version + 1)
    assert await cached.gateways.replace(renamed, gateway.version)
    found, _ = await cached.get_with_template(tenant, gateway_id, "a")
    assert found is not None and found.name == "renamed"


async def test_a_change_the_cache_did_not_hear_of_is_not_read_until_invalidated(
    database: Database,
) -> None:
    cached, tenant, gateway_id = CachedExecutions(database, ttl_seconds=3600), new_tenant(), _new_id()
    elsewhere = CachedExecutions(database, ttl_seconds=3600)  # another replica's stores
    gateway = await elsewhere.gateways.insert(_gateway(tenant, gateway_id, "g"), None)
    await elsewhere.templates.insert(_template(tenant, "a"), None)
    assert (await cached.get_with_template(tenant, gateway_id, "a"))[0] == gateway

    assert await elsewhere.gateways.soft_delete(tenant, gateway_id, NOW)
    assert (await cached.get_with_template(tenant, gateway_id, "a"))[0] == gateway  # not heard yet
    cached.invalidate(tenant, gateway_id)  # what the listener calls on the notification
    assert await cached.get_with_template(tenant, gateway_id, "a") == (None, None)


async def test_ttl_zero_reads_the_database_every_time(database: Database) -> None:
    cached, tenant, gateway_id = CachedExecutions(database, ttl_seconds=0), new_tenant(), _new_id()
    await cached.gateways.insert(_gateway(tenant, gateway_id, "g"), None)
    await cached.templates.insert(_template(tenant, "a"), None)
    assert (await cached.get_with_template(tenant, gateway_id, "a"))[1] is not None
    assert len(cached) == 0
