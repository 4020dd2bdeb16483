"""Data source access roles are enforced: a source with roles is visible, testable and
changeable only by callers holding one of them (roles come from the caller file), on both
backends. To anyone else it is the same NOT_FOUND as a source that does not exist."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2

from integrations.v1 import data_sources_pb2 as pb
from integrations.v1 import data_sources_pb2_grpc
from tests.conftest import serve_config
from tests.loopback_targets import closed_port
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import fails
from tests.service.servers import started
from tests.support import RunningServer, new_tenant

TENANT = new_tenant()
TOKENS = {name: register_secret(f"tok-{name}-5d2e9a") for name in ("finance", "ops", "admin")}
ROLES: dict[str, object] = {"finance": ["finance"], "ops": [], "admin": "*"}


def _as(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)


@pytest.fixture
async def secured(database_url: str, backend: str, tmp_path: Path) -> AsyncIterator[RunningServer]:
    callers = [
        {"name": name, "token_sha256": hashlib.sha256(TOKENS[name].encode()).hexdigest(),
         "scopes": ["datasources.read", "datasources.write"], "tenants": "*", "roles": roles}
        for name, roles in ROLES.items()
    ]
    path = tmp_path / "callers.json"
    path.write_text(json.dumps({"callers": callers}))
    async with started(serve_config(database_url, callers_file=str(path)), backend) as server:
        yield server


async def _register(stub: data_sources_pb2_grpc.DataSourcesServiceStub, caller: str, name: str,
                    roles: list[str]) -> pb.DataSource:
    source = pb.DataSource(name=name, source_type=pb.DATA_SOURCE_TYPE_DATABASE, access_roles=roles,
                           config=pb.DataSourceConfig(host="127.0.0.1", port=closed_port()))
    return await stub.RegisterDataSource(
        pb.RegisterDataSourceRequest(tenant_id=TENANT, data_source=source), metadata=_as(caller)
    )


async def test_sources_with_roles_are_invisible_to_callers_without_one(
    secured: RunningServer,
) -> None:
    stub = secured.stub(data_sources_pb2_grpc.DataSourcesServiceStub)
    ledger = await _register(stub, "finance", "ledger", ["finance"])
    shared = await _register(stub, "ops", "shared", [])

    def listed(caller: str) -> object:
        return stub.ListDataSources(pb.ListDataSourcesRequest(tenant_id=TENANT), metadata=_as(caller))

    ops = await listed("ops")
    assert [s.id for s in ops.data_sources] == [shared.id] and ops.total_size == 1
    assert {s.id for s in (await listed("finance")).data_sources} == {ledger.id, shared.id}
    assert (await listed("admin")).total_size == 2
    stats = await stub.GetDataSourceStatistics(
        pb.GetDataSourceStatisticsRequest(tenant_id=TENANT), metadata=_as("ops"))
    assert stats.total_sources == 1

    ids = {"tenant_id": TENANT, "data_source_id": ledger.id}
    hidden = [
        stub.GetDataSource(pb.GetDataSourceRequest(**ids), metadata=_as("ops")),
        stub.TestDataSourceConnection(pb.TestDataSourceConnectionRequest(**ids), metadata=_as("ops")),
        stub.ActivateDataSource(pb.ActivateDataSourceRequest(**ids), metadata=_as("ops")),
        stub.DeleteDataSource(pb.DeleteDataSourceRequest(**ids), metadata=_as("ops")),
        stub.UpdateDataSource(pb.UpdateDataSourceRequest(
            tenant_id=TENANT, data_source=pb.DataSource(id=ledger.id, description="mine now"),
            update_mask=field_mask_pb2.FieldMask(paths=["description"])), metadata=_as("ops")),
    ]
    unknown = new_tenant()
    missing = await fails(stub.GetDataSource(
        pb.GetDataSourceRequest(tenant_id=TENANT, data_source_id=unknown), metadata=_as("ops")))
    for call in hidden:
        err = await fails(call)
        assert err.code == grpc.StatusCode.NOT_FOUND
        assert err.message == missing.message.replace(unknown, ledger.id)  # indistinguishable
    kept = await stub.GetDataSource(pb.GetDataSourceRequest(**ids), metadata=_as("finance"))
    assert kept.description == "" and kept.status == ledger.status  # nothing changed


async def test_a_caller_cannot_restrict_a_source_to_roles_it_does_not_hold(
    secured: RunningServer,
) -> None:
    stub = secured.stub(data_sources_pb2_grpc.DataSourcesServiceStub)
    refused = await fails(_register(stub, "ops", "theirs", ["finance"]))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "data_source.access_roles" in refused.field_violations
    mine = await _register(stub, "finance", "mine", ["finance"])
    moved = await fails(stub.UpdateDataSource(pb.UpdateDataSourceRequest(
        tenant_id=TENANT, data_source=pb.DataSource(id=mine.id, access_roles=["hr"]),
        update_mask=field_mask_pb2.FieldMask(paths=["access_roles"])), metadata=_as("finance")))
    assert "data_source.access_roles" in moved.field_violations
    listed = await stub.ListDataSources(pb.ListDataSourcesRequest(tenant_id=TENANT),
                                        metadata=_as("admin"))
    assert "theirs" not in {s.name for s in listed.data_sources}  # nothing stored
    assert [list(s.access_roles) for s in listed.data_sources if s.id == mine.id] == [["finance"]]
    # the admin (roles "*") may hand it to another role
    handed = await stub.UpdateDataSource(pb.UpdateDataSourceRequest(
        tenant_id=TENANT, data_source=pb.DataSource(id=mine.id, access_roles=["hr"]),
        update_mask=field_mask_pb2.FieldMask(paths=["access_roles"])), metadata=_as("admin"))
    assert list(handed.access_roles) == ["hr"]
    gone = await fails(stub.GetDataSource(
        pb.GetDataSourceRequest(tenant_id=TENANT, data_source_id=mine.id), metadata=_as("finance")))
    assert gone.code == grpc.StatusCode.NOT_FOUND
