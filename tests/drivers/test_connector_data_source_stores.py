"""The connector and data source stores on SQLite and PostgreSQL: tenant scoping, idempotent
inserts, name uniqueness, conditional writes, tag filters, test counters and grouped statistics."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from drivers.connectors.store import SqlConnectorStore
from drivers.data_sources.store import SqlDataSourceStore
from drivers.kernel.database import Database
from engines.connectors.connector import Connector, ConnectorFilters, ConnectorStatus, ConnectorType
from engines.data_sources.data_source import (
    ConnectionTestRecord,
    DataSource,
    DataSourceFilters,
    DataSourceStatus,
    DataSourceType,
)
from engines.data_sources.settings import ConnectionSettings
from engines.kernel.errors import AlreadyExists
from engines.kernel.pagination import parse_page
from tests.support import request_key

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _connector(tenant: str, name: str, n: int = 0, **changes: object) -> Connector:
    connector = Connector(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        name=name,
        connector_type=ConnectorType.HTTP,
        status=ConnectorStatus.REGISTERED,
        endpoint="http://127.0.0.1:9/",
        config={"timeout_seconds": 2},
        metadata={"team": "data"},
        credential_ref="",
        create_time=T0 + timedelta(seconds=n),
        update_time=T0 + timedelta(seconds=n),
    )
    return replace(connector, **changes)  # type: ignore[arg-type]


def _data_source(tenant: str, name: str, n: int = 0, **changes: object) -> DataSource:
    source = DataSource(
        id=str(uuid.uuid4()),
        tenant_id=tenant,
        name=name,
        source_type=DataSourceType.DATABASE,
        status=DataSourceStatus.PENDING,
        config=ConnectionSettings(
            connection_string="postgresql://app:***@db:5432/x",
            options={"k": "v"},
            password_ref=f"cus-vault://{tenant}/p",
        ),
        description="d",
        tags=("prod", "eu"),
        metadata={},
        owner_id="o",
        access_roles=("analyst",),
        create_time=T0 + timedelta(seconds=n),
        update_time=T0 + timedelta(seconds=n),
    )
    return replace(source, **changes)  # type: ignore[arg-type]


async def test_connectors_round_trip_per_tenant(
    database: Database, tenant: str, other_tenant: str
) -> None:
    store = SqlConnectorStore(database)
    first = await store.insert(_connector(tenant, "a"), request_key("req-1"))
    again = await store.insert(_connector(tenant, "a-retry"), request_key("req-1"))
    assert again == first
    assert await store.get(tenant, first.id) == first
    assert await store.get(other_tenant, first.id) is None
    with pytest.raises(AlreadyExists):
        await store.insert(_connector(tenant, "a"), None)
    await store.insert(_connector(other_tenant, "a"), None)  # names are per tenant

    assert await store.replace(replace(first, name="b", version=2), expected_version=1)
    assert not await store.replace(replace(first, name="c", version=2), expected_version=1)
    assert not await store.replace(replace(first, tenant_id=other_tenant, version=3), 2)
    assert (await store.get(tenant, first.id)).name == "b"  # type: ignore[union-attr]

    registered, connected = ConnectorStatus.REGISTERED, ConnectorStatus.CONNECTED
    recorded = await store.record_test(
        tenant, first.id, from_status=registered, status=connected, when=T0, error=""
    )
    assert recorded is not None and recorded.last_used_time == T0 and recorded.version == 3
    # The status moved on (REGISTERED -> CONNECTED): a write that expected REGISTERED is refused.
    assert await store.record_test(
        tenant, first.id, from_status=registered, status=ConnectorStatus.ERROR, when=T0, error="x"
    ) is None
    failed = await store.record_test(
        tenant, first.id, from_status=connected, status=ConnectorStatus.ERROR,
        when=T0 + timedelta(1), error="refused",
    )
    assert failed is not None and failed.last_error == "refused" and failed.last_used_time == T0
    assert await store.record_test(
        other_tenant, first.id, from_status=ConnectorStatus.ERROR, status=ConnectorStatus.ERROR,
        when=T0, error="x",
    ) is None

    assert not await store.soft_delete(other_tenant, first.id, T0)
    assert await store.soft_delete(tenant, first.id, T0)
    assert await store.get(tenant, first.id) is None
    assert await store.find_by_request_id(tenant, "req-1") is not None  # retries stay answered
    await store.insert(_connector(tenant, "b"), None)  # the deleted one's name is free again


async def test_connector_list_filters_and_pages(database: Database, tenant: str) -> None:
    store = SqlConnectorStore(database)
    for n in range(5):
        kind = ConnectorType.HTTP if n % 2 else ConnectorType.MCP
        await store.insert(_connector(tenant, f"c{n}", n, connector_type=kind), None)
    page = parse_page(2, "", {})
    rows, total = await store.list(tenant, ConnectorFilters(), page)
    assert total == 5 and [c.name for c in rows] == ["c0", "c1", "c2"]
    rows, total = await store.list(
        tenant, ConnectorFilters(connector_type=ConnectorType.HTTP), parse_page(10, "", {})
    )
    assert total == 2 and [c.name for c in rows] == ["c1", "c3"]


async def test_data_sources_keep_refs_tags_and_count_tests(
    database: Database, tenant: str, other_tenant: str
) -> None:
    store = SqlDataSourceStore(database)
    source = await store.insert(_data_source(tenant, "warehouse"), None)
    loaded = await store.get(tenant, source.id)
    assert loaded == source
    assert await store.get(other_tenant, source.id) is None

    ok = ConnectionTestRecord(success=True, when=T0, error="", status=DataSourceStatus.PENDING)
    assert await store.record_test(source, ok)
    bad = ConnectionTestRecord(False, T0 + timedelta(seconds=1), "refused", DataSourceStatus.ERROR)
    assert await store.record_test(source, bad)
    # The status moved on (PENDING -> ERROR), so a write that expected PENDING is refused.
    assert not await store.record_test(source, ok)
    counted = await store.get(tenant, source.id)
    assert counted is not None
    assert (counted.connection_count, counted.error_count) == (1, 1)
    assert counted.status is DataSourceStatus.ERROR and counted.last_error == "refused"
    assert counted.last_connected_time == T0 and counted.last_error_time == T0 + timedelta(1 / 86400)
    assert not await store.record_test(replace(counted, tenant_id=other_tenant), bad)

    retagged = replace(counted, tags=("staging",), version=counted.version + 1)
    assert await store.replace(retagged, counted.version)
    every = parse_page(10, "", {})
    assert (await store.list(tenant, DataSourceFilters(tag="prod"), every))[1] == 0
    assert (await store.list(tenant, DataSourceFilters(tag="staging"), every))[1] == 1
    assert (await store.list(other_tenant, DataSourceFilters(tag="staging"), every))[1] == 0


async def test_statistics_are_grouped_per_tenant(
    database: Database, tenant: str, other_tenant: str
) -> None:
    store = SqlDataSourceStore(database)
    layout = [
        (DataSourceType.DATABASE, DataSourceStatus.ACTIVE, 3, 1),
        (DataSourceType.DATABASE, DataSourceStatus.ERROR, 0, 2),
        (DataSourceType.API, DataSourceStatus.ACTIVE, 5, 0),
        (DataSourceType.API, DataSourceStatus.PENDING, 0, 0),
        (DataSourceType.FILE, DataSourceStatus.INACTIVE, 1, 1),
    ]
    for n, (kind, status, connections, errors) in enumerate(layout):
        await store.insert(
            _data_source(
                tenant, f"s{n}", n, source_type=kind, status=status,
                connection_count=connections, error_count=errors,
            ),
            None,
        )
    gone = await store.insert(_data_source(tenant, "gone", 9, connection_count=100), None)
    await store.soft_delete(tenant, gone.id, T0)
    await store.insert(_data_source(other_tenant, "theirs", connection_count=50), None)

    stats = await store.statistics(tenant)
    assert stats.total == 5
    assert dict(stats.by_status) == {
        DataSourceStatus.ACTIVE: 2,
        DataSourceStatus.ERROR: 1,
        DataSourceStatus.PENDING: 1,
        DataSourceStatus.INACTIVE: 1,
    }
    assert dict(stats.by_type) == {
        DataSourceType.DATABASE: 2, DataSourceType.API: 2, DataSourceType.FILE: 1
    }
    assert (stats.total_connections, stats.total_errors) == (9, 4)
    empty = await store.statistics(str(uuid.uuid4()))
    assert (empty.total, dict(empty.by_type), empty.total_connections) == (0, {}, 0)
