"""DiscoverDataSource end to end on both backends: a real customer PostgreSQL database (its
own login's view of tables, views and columns; read-only), a loopback HTTP API (headers, never
a body), tenant isolation, unsupported types, bad input and the egress policy."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from integrations.v1 import data_sources_pb2 as pb
from integrations.v1 import data_sources_pb2_grpc
from tests.customer_database import CustomerDatabase, customer_database
from tests.loopback_targets import closed_port, http_target
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import fails, struct
from tests.support import RunningServer

API_KEY = register_secret("key-DISCOVER-4e1f0a")


@pytest.fixture
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


def _stub(server: RunningServer) -> data_sources_pb2_grpc.DataSourcesServiceStub:
    return server.stub(data_sources_pb2_grpc.DataSourcesServiceStub)


async def _register(stub: data_sources_pb2_grpc.DataSourcesServiceStub, tenant: str, name: str,
                    source_type: int, **config: object) -> pb.DataSource:
    options = config.pop("options", None)
    message = pb.DataSource(name=name, source_type=source_type, config=pb.DataSourceConfig(**config))
    if options is not None:
        message.config.options.CopyFrom(struct(options))  # type: ignore[arg-type]
    return await stub.RegisterDataSource(
        pb.RegisterDataSourceRequest(tenant_id=tenant, data_source=message))


def _discover(stub: data_sources_pb2_grpc.DataSourcesServiceStub, tenant: str, source_id: str,
              max_tables: int = 0) -> object:
    return stub.DiscoverDataSource(pb.DiscoverDataSourceRequest(
        tenant_id=tenant, data_source_id=source_id, max_tables=max_tables))


async def test_a_database_source_lists_what_its_login_sees(
    server: RunningServer, tenant: str, other_tenant: str, customer: CustomerDatabase
) -> None:
    await customer.fetchval("CREATE VIEW open_orders AS SELECT id, amount FROM orders")
    await customer.fetchval("CREATE SCHEMA sales")
    await customer.fetchval("CREATE TABLE sales.leads (email text)")
    before = await customer.fingerprint()
    stub = _stub(server)
    source = await _register(stub, tenant, "warehouse", pb.DATA_SOURCE_TYPE_DATABASE,
                             connection_string=customer.dsn)
    found = await _discover(stub, tenant, source.id)
    assert found.success, found.message
    tables = {(t.schema, t.name): t for t in found.tables}
    assert set(tables) == {("public", "audit"), ("public", "numbers"), ("public", "orders"),
                           ("public", "open_orders"), ("sales", "leads")}
    assert [t.name for t in found.tables][:1] == ["audit"]  # (schema, name) order
    orders = tables[("public", "orders")]
    assert orders.kind == "table" and tables[("public", "open_orders")].kind == "view"
    assert [(c.name, c.data_type, c.nullable) for c in orders.columns][:3] == [
        ("id", "bigint", False), ("customer", "text", False), ("amount", "numeric(12,2)", False)]
    assert not found.truncated and found.details["method"] == "postgres_catalog"
    capped = await _discover(stub, tenant, source.id, max_tables=2)
    assert [t.name for t in capped.tables] == ["audit", "numbers"] and capped.truncated
    assert await customer.fingerprint() == before  # read only
    unchanged = await stub.GetDataSource(pb.GetDataSourceRequest(tenant_id=tenant,
                                                                 data_source_id=source.id))
    assert unchanged.connection_count == 0 and unchanged.etag == source.etag

    hidden = await fails(_discover(stub, other_tenant, source.id))
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    bad = await fails(_discover(stub, tenant, source.id, max_tables=5000))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "max_tables" in bad.field_violations


async def test_an_api_source_reports_headers_only_and_other_types_are_refused(
    server: RunningServer, tenant: str
) -> None:
    stub = _stub(server)
    async with http_target(200) as target:
        api = await _register(stub, tenant, "api", pb.DATA_SOURCE_TYPE_API, api_key=API_KEY,
                              options={"url": target.url})
        found = await _discover(stub, tenant, api.id)
        assert [r["request-line"].split()[0] for r in target.requests] == ["HEAD", "OPTIONS"]
        assert target.requests[0]["authorization"] == f"Bearer {API_KEY}"
    assert found.success and found.http["head_status"] == "200"
    assert found.http["options_status"] == "200" and not found.tables
    assert API_KEY not in str(found)
    document = await _register(stub, tenant, "docs", pb.DATA_SOURCE_TYPE_DOCUMENT)
    refused = await fails(_discover(stub, tenant, document.id))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION,
                                              "DISCOVERY_NOT_SUPPORTED")


async def test_an_unreachable_source_is_an_outcome_not_an_error(
    server: RunningServer, tenant: str
) -> None:
    stub = _stub(server)
    source = await _register(stub, tenant, "gone", pb.DATA_SOURCE_TYPE_DATABASE,
                             host="127.0.0.1", port=closed_port(), username="u")
    found = await _discover(stub, tenant, source.id)
    assert not found.success and found.details["error_code"] == "refused" and found.message
