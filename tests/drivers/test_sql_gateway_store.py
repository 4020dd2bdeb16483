"""SqlTemplateStore and SqlGatewayStore on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from drivers.kernel.database import Database
from drivers.sql_gateway.store import SqlGatewayStore, SqlTemplateStore
from engines.kernel.errors import AlreadyExists
from engines.kernel.pagination import parse_page
from engines.sql_gateway.gateway import Gateway, GatewayFilters, TemplateFilters
from engines.sql_gateway.parameters import ParameterSpec, ParameterType
from engines.sql_gateway.templates import QueryTemplate
from tests.support import new_tenant, request_key

NOW = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def _template(tenant: str, template_id: str, offset: int = 0) -> QueryTemplate:
    return QueryTemplate(
        id=template_id, tenant_id=tenant, name="Orders", description="d",
        sql="SELECT * FROM orders WHERE status = $1 AND id = ANY($2)",
        parameters=(
            ParameterSpec("status", ParameterType.STRING, required=True, max_length=10,
                          description="which"),
            ParameterSpec("ids", ParameterType.LIST_INT, default_value=[1, 2], min_value=0,
                          max_value=9.5),
        ),
        read_only=True, max_rows=10, timeout_seconds=5,
        create_time=NOW + timedelta(seconds=offset),
        update_time=NOW + timedelta(seconds=offset),
    )


def _gateway(tenant: str, gateway_id: str, name: str) -> Gateway:
    return Gateway(
        id=gateway_id, tenant_id=tenant, name=name, connection_string_ref="env://DB",
        allowed_template_ids=("a", "b"), max_rows=10, max_result_bytes=2**33,
        timeout_seconds=5, read_only=False, create_time=NOW, update_time=NOW,
    )


async def test_templates_round_trip_and_are_tenant_scoped(database: Database) -> None:
    store, tenant, other = SqlTemplateStore(database), new_tenant(), new_tenant()
    template = _template(tenant, "orders-v1")
    assert await store.insert(template, None) == template
    assert await store.get(tenant, "orders-v1") == template
    assert await store.get(other, "orders-v1") is None
    # The same id is free for another tenant, taken for this one.
    await store.insert(_template(other, "orders-v1"), None)
    with pytest.raises(AlreadyExists):
        await store.insert(_template(tenant, "orders-v1"), None)


async def test_template_request_id_returns_the_first(database: Database) -> None:
    store, tenant = SqlTemplateStore(database), new_tenant()
    first = await store.insert(_template(tenant, "one"), request_key("req-1"))
    again = await store.insert(_template(tenant, "two"), request_key("req-1"))
    assert again == first
    assert await store.get(tenant, "two") is None
    assert (await store.find_by_request_id(tenant, "req-1")).resource == first


async def test_templates_list_in_order_with_total(database: Database) -> None:
    store, tenant = SqlTemplateStore(database), new_tenant()
    for n, template_id in enumerate(["c", "a", "b"]):
        await store.insert(_template(tenant, template_id, offset=n), None)
    await store.insert(_template(new_tenant(), "x"), None)
    rows, total = await store.list(tenant, TemplateFilters(), parse_page(2, "", {}))
    assert [t.id for t in rows] == ["c", "a", "b"] and total == 3


async def test_gateways_round_trip_with_unique_names(database: Database) -> None:
    store, tenant = SqlGatewayStore(database), new_tenant()
    gateway = _gateway(tenant, "00000000-0000-4000-8000-000000000001", "main")
    await store.insert(gateway, request_key("r"))
    assert await store.get(tenant, gateway.id) == gateway
    assert await store.get(new_tenant(), gateway.id) is None
    with pytest.raises(AlreadyExists):
        await store.insert(_gateway(tenant, "00000000-0000-4000-8000-000000000002", "main"), None)
    retried = _gateway(tenant, "00000000-0000-4000-8000-000000000003", "x")
    assert await store.insert(retried, request_key("r")) == gateway
    rows, total = await store.list(tenant, GatewayFilters(), parse_page(0, "", {}))
    assert rows == [gateway] and total == 1


async def test_gateway_with_template_in_one_read(database: Database) -> None:
    gateways, templates, tenant = SqlGatewayStore(database), SqlTemplateStore(database), new_tenant()
    gateway = await gateways.insert(_gateway(tenant, "00000000-0000-4000-8000-0000000000a1", "g"), None)
    template = await templates.insert(_template(tenant, "a"), None)
    await templates.insert(_template(new_tenant(), "b"), None)
    assert await gateways.get_with_template(tenant, gateway.id, "a") == (gateway, template)
    assert await gateways.get_with_template(tenant, gateway.id, "b") == (gateway, None)
    assert await gateways.get_with_template(new_tenant(), gateway.id, "a") == (None, None)
    assert await templates.soft_delete(tenant, "a", NOW)
    assert await gateways.get_with_template(tenant, gateway.id, "a") == (gateway, None)
    assert await gateways.soft_delete(tenant, gateway.id, NOW)
    assert await gateways.get_with_template(tenant, gateway.id, "a") == (None, None)
