"""ConnectorsService end to end through the real server, on SQLite and PostgreSQL, with real
targets: a loopback HTTP server, the local PostgreSQL, a silent port and a closed port."""

from __future__ import annotations

import uuid

import grpc
from google.protobuf import field_mask_pb2

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import connectors_pb2 as pb
from integrations.v1 import connectors_pb2_grpc, data_sources_pb2
from tests.loopback_targets import closed_port, http_target, silent_target
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import fails, pg_dsn, store_credential, struct
from tests.support import RunningServer

Stub = connectors_pb2_grpc.ConnectorsServiceStub


def _stub(server: RunningServer) -> Stub:
    return server.stub(Stub)


async def _register(
    stub: Stub, tenant: str, name: str = "crm", request_id: str = "", **fields: object
) -> pb.Connector:
    values: dict[str, object] = {"name": name, "connector_type": pb.CONNECTOR_TYPE_HTTP}
    values.update(fields)
    return await stub.RegisterConnector(
        pb.RegisterConnectorRequest(
            tenant_id=tenant, connector=pb.Connector(**values), request_id=request_id
        )
    )


async def _test(stub: Stub, tenant: str, connector_id: str) -> pb.ConnectorTestResult:
    return await stub.TestConnector(
        pb.TestConnectorRequest(tenant_id=tenant, connector_id=connector_id)
    )


async def _get(stub: Stub, tenant: str, connector_id: str) -> pb.Connector:
    return await stub.GetConnector(pb.GetConnectorRequest(tenant_id=tenant, connector_id=connector_id))


async def test_http_connector_lifecycle_against_a_real_server(
    server: RunningServer, tenant: str
) -> None:
    stub = _stub(server)
    async with http_target(200) as target:
        token_ref = await store_credential(server, tenant, "crm-token", "tok-e2e-77")
        created = await _register(
            stub, tenant, endpoint=target.url, credential_ref=token_ref,
            metadata=struct({"team": "sales"}),
        )
        assert created.status == pb.CONNECTOR_STATUS_REGISTERED
        assert list(created.capabilities) == [
            pb.CONNECTOR_CAPABILITY_READ, pb.CONNECTOR_CAPABILITY_WRITE,
            pb.CONNECTOR_CAPABILITY_QUERY,
        ]
        result = await _test(stub, tenant, created.id)
        assert target.requests[0]["authorization"] == "Bearer tok-e2e-77"
    assert result.success and result.connector_id == created.id and result.error == ""
    assert result.details["http_status"] == 200
    connected = await _get(stub, tenant, created.id)
    assert connected.status == pb.CONNECTOR_STATUS_CONNECTED
    assert connected.HasField("last_used_time") and connected.etag != created.etag

    # The server is gone now: the same endpoint is refused, and the failure is recorded.
    failed = await _test(stub, tenant, created.id)
    assert not failed.success and "refused" in failed.error
    assert failed.details["error_code"] == "refused"
    errored = await _get(stub, tenant, created.id)
    assert errored.status == pb.CONNECTOR_STATUS_ERROR and errored.last_error == failed.error
    assert errored.last_used_time == connected.last_used_time

    listed = await stub.ListConnectors(
        pb.ListConnectorsRequest(tenant_id=tenant, status=pb.CONNECTOR_STATUS_ERROR)
    )
    assert [c.id for c in listed.connectors] == [created.id] and listed.total_size == 1
    deleted = await stub.DeleteConnector(
        pb.DeleteConnectorRequest(tenant_id=tenant, connector_id=created.id)
    )
    assert deleted.deleted and deleted.connector_id == created.id
    assert (await fails(_get(stub, tenant, created.id))).code == grpc.StatusCode.NOT_FOUND


async def test_http_error_status_and_timeout_are_reported(
    server: RunningServer, tenant: str
) -> None:
    stub = _stub(server)
    async with http_target(503) as target:
        unhealthy = await _register(stub, tenant, "bad", endpoint=target.url)
        result = await _test(stub, tenant, unhealthy.id)
    assert not result.success and "HTTP 503" in result.error
    async with silent_target() as port:
        slow = await _register(
            stub, tenant, "slow", endpoint=f"http://127.0.0.1:{port}/",
            config=struct({"timeout_seconds": 0.3}),
        )
        timed_out = await _test(stub, tenant, slow.id)
    assert not timed_out.success and "within 0.3 s" in timed_out.error
    assert timed_out.details["error_code"] == "timed_out"


async def test_sql_connectors_run_select_one_on_the_local_postgres(
    server: RunningServer, tenant: str, postgres_admin_url: str
) -> None:
    stub = _stub(server)
    dsn_ref = await store_credential(server, tenant, "dsn", pg_dsn(postgres_admin_url))
    whole = await _register(
        stub, tenant, "pg", connector_type=pb.CONNECTOR_TYPE_SQL, credential_ref=dsn_ref
    )
    assert pb.CONNECTOR_CAPABILITY_TRANSACTION in whole.capabilities
    password_ref = await store_credential(server, tenant, "pg-password", "unused-with-trust")
    split = await _register(
        stub, tenant, "pg-split", connector_type=pb.CONNECTOR_TYPE_SQL,
        endpoint=pg_dsn(postgres_admin_url, password=None), credential_ref=password_ref,
    )
    for connector in (whole, split):
        result = await _test(stub, tenant, connector.id)
        assert result.success, result.error
        assert result.details["method"] == "postgres_select_one"
    refused_ref = await store_credential(
        server, tenant, "dead", f"postgresql://u:pw@127.0.0.1:{closed_port()}/x"
    )
    dead = await _register(
        stub, tenant, "pg-dead", connector_type=pb.CONNECTOR_TYPE_SQL, credential_ref=refused_ref
    )
    result = await _test(stub, tenant, dead.id)
    assert not result.success and result.details["error_code"] == "refused"


async def test_tcp_connector_and_missing_credential(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    async with silent_target() as port:
        stream = await _register(
            stub, tenant, "stream", connector_type=pb.CONNECTOR_TYPE_STREAM,
            endpoint=f"127.0.0.1:{port}",
        )
        assert (await _test(stub, tenant, stream.id)).success
    ref = await store_credential(server, tenant, "soon-gone", "tok")
    orphan = await _register(stub, tenant, "orphan", endpoint="http://127.0.0.1:1/", credential_ref=ref)
    credentials = server.stub(credentials_pb2_grpc.CredentialServiceStub)
    await credentials.DeleteCredential(
        credentials_pb2.DeleteCredentialRequest(tenant_id=tenant, credential_id=ref.rsplit("/", 1)[1])
    )
    result = await _test(stub, tenant, orphan.id)
    assert not result.success and result.details["error_code"] == "credential_unavailable"


async def test_credential_refs_must_belong_to_the_tenant(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    theirs = await store_credential(server, other_tenant, "theirs", "their-token")
    for ref in (theirs, f"cus-vault://{tenant}/{uuid.uuid4()}"):
        error = await fails(_register(stub, tenant, endpoint="http://h.example/", credential_ref=ref))
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT
        assert set(error.field_violations) == {"connector.credential_ref"}
    listed = await stub.ListConnectors(pb.ListConnectorsRequest(tenant_id=tenant))
    assert listed.total_size == 0


async def test_bad_input_names_fields_and_changes_nothing(
    server: RunningServer, tenant: str
) -> None:
    stub = _stub(server)
    error = await fails(
        _register(
            stub, tenant, "", endpoint="ftp://x/", config=struct({"password": "Hunter2x"}),
            credential_ref=register_secret("sk-raw-Hunter2x"),
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.field_violations) == {
        "connector.name", "connector.endpoint", "connector.config.password",
        "connector.credential_ref",
    }
    assert "Hunter2x" not in error.message
    created = await _register(stub, tenant, endpoint="https://crm.example/")
    bad_update = await fails(
        stub.UpdateConnector(
            pb.UpdateConnectorRequest(
                tenant_id=tenant,
                connector=pb.Connector(id=created.id, name="renamed", endpoint="not a url"),
                update_mask=field_mask_pb2.FieldMask(paths=["name", "endpoint"]),
            )
        )
    )
    assert bad_update.field_violations.keys() == {"connector.endpoint"}
    output_only = await fails(
        stub.UpdateConnector(
            pb.UpdateConnectorRequest(
                tenant_id=tenant, connector=pb.Connector(id=created.id),
                update_mask=field_mask_pb2.FieldMask(paths=["status"]),
            )
        )
    )
    assert output_only.code == grpc.StatusCode.INVALID_ARGUMENT
    assert await _get(stub, tenant, created.id) == created

    updated = await stub.UpdateConnector(
        pb.UpdateConnectorRequest(
            tenant_id=tenant,
            connector=pb.Connector(id=created.id, name="crm-2", etag=created.etag),
        )
    )
    assert updated.name == "crm-2" and updated.endpoint == created.endpoint
    stale = await fails(
        stub.UpdateConnector(
            pb.UpdateConnectorRequest(
                tenant_id=tenant,
                connector=pb.Connector(id=created.id, name="crm-3", etag=created.etag),
            )
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    duplicate = await fails(_register(stub, tenant, "crm-2", endpoint="https://x.example/"))
    assert duplicate.code == grpc.StatusCode.ALREADY_EXISTS


async def test_register_is_idempotent_and_lists_page(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    first = await _register(stub, tenant, "c0", request_id="once", endpoint="http://h.example/")
    again = await _register(stub, tenant, "c0", request_id="once", endpoint="http://h.example/")
    assert again == first
    for n in range(1, 5):
        await _register(stub, tenant, f"c{n}", endpoint="http://h.example/")
    seen, token = [], ""
    while True:
        page = await stub.ListConnectors(
            pb.ListConnectorsRequest(tenant_id=tenant, page_size=2, page_token=token)
        )
        assert page.total_size == 5
        seen += [c.name for c in page.connectors]
        token = page.next_page_token
        if not token:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    first_page = await stub.ListConnectors(pb.ListConnectorsRequest(tenant_id=tenant, page_size=2))
    mixed = await fails(
        stub.ListConnectors(
            pb.ListConnectorsRequest(
                tenant_id=tenant, page_token=first_page.next_page_token,
                connector_type=pb.CONNECTOR_TYPE_SQL,
            )
        )
    )
    assert "page_token" in mixed.field_violations


async def test_another_tenant_gets_not_found_in_every_rpc(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    mine = await _register(stub, tenant, endpoint="http://127.0.0.1:1/")
    missing = str(uuid.uuid4())

    def calls(tenant_id: str, connector_id: str) -> list:  # type: ignore[type-arg]
        return [
            stub.GetConnector(pb.GetConnectorRequest(tenant_id=tenant_id, connector_id=connector_id)),
            stub.UpdateConnector(
                pb.UpdateConnectorRequest(
                    tenant_id=tenant_id, connector=pb.Connector(id=connector_id, name="stolen")
                )
            ),
            stub.TestConnector(
                pb.TestConnectorRequest(tenant_id=tenant_id, connector_id=connector_id)
            ),
            stub.DisconnectConnector(
                pb.DisconnectConnectorRequest(tenant_id=tenant_id, connector_id=connector_id)
            ),
            stub.ReconnectConnector(
                pb.ReconnectConnectorRequest(tenant_id=tenant_id, connector_id=connector_id)
            ),
            stub.DeprecateConnector(
                pb.DeprecateConnectorRequest(tenant_id=tenant_id, connector_id=connector_id)
            ),
            stub.DeleteConnector(
                pb.DeleteConnectorRequest(tenant_id=tenant_id, connector_id=connector_id)
            ),
        ]

    for theirs, absent in zip(calls(other_tenant, mine.id), calls(tenant, missing), strict=True):
        denied, not_there = await fails(theirs), await fails(absent)
        assert denied.code == not_there.code == grpc.StatusCode.NOT_FOUND
        assert denied.message == not_there.message.replace(missing, mine.id)
    listed = await stub.ListConnectors(pb.ListConnectorsRequest(tenant_id=other_tenant))
    assert listed.total_size == 0
    assert await _get(stub, tenant, mine.id) == mine  # untouched, untested, not deleted


async def test_connector_specs_are_served_for_both_kinds_of_type(server: RunningServer) -> None:
    stub = server.stub(connectors_pb2_grpc.ConnectorsServiceStub)
    sql = await stub.GetConnectorSpec(
        pb.GetConnectorSpecRequest(connector_type=pb.CONNECTOR_TYPE_SQL))
    assert list(sql.json_schema["required"]) == ["name", "credential_ref"]
    assert sql.json_schema["properties"]["credential_ref"]["x-credential-ref"] is True
    database = await stub.GetConnectorSpec(pb.GetConnectorSpecRequest(
        data_source_type=data_sources_pb2.DATA_SOURCE_TYPE_DATABASE))
    assert set(database.secret_fields) == {"connection_string", "password", "api_key"}
    for request, field in (
        (pb.GetConnectorSpecRequest(), "kind"),
        (pb.GetConnectorSpecRequest(connector_type=99), "connector_type"),
        (pb.GetConnectorSpecRequest(
            data_source_type=data_sources_pb2.DATA_SOURCE_TYPE_UNSPECIFIED), "data_source_type"),
    ):
        error = await fails(stub.GetConnectorSpec(request))
        assert error.code == grpc.StatusCode.INVALID_ARGUMENT and field in error.field_violations


async def test_statuses_follow_the_transition_table(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    ids = {"tenant_id": tenant}
    async with http_target(200) as target:
        created = await _register(stub, tenant, endpoint=target.url)
        moved = await stub.UpdateConnector(pb.UpdateConnectorRequest(
            tenant_id=tenant, connector=pb.Connector(id=created.id, endpoint=target.url + "v2")))
        assert moved.status == pb.CONNECTOR_STATUS_CONFIGURING
        renamed = await stub.UpdateConnector(pb.UpdateConnectorRequest(
            tenant_id=tenant, connector=pb.Connector(id=created.id, name="renamed")))
        assert renamed.status == pb.CONNECTOR_STATUS_CONFIGURING  # a name is no connection setting
        await _test(stub, tenant, created.id)
        assert (await _get(stub, tenant, created.id)).status == pb.CONNECTOR_STATUS_CONNECTED

        off = await stub.DisconnectConnector(
            pb.DisconnectConnectorRequest(**ids, connector_id=created.id))
        assert (off.status, off.message) == (pb.CONNECTOR_STATUS_DISCONNECTED,
                                             "disconnected (was connected)")
        assert (await _test(stub, tenant, created.id)).success
        tested = await _get(stub, tenant, created.id)
        assert tested.status == pb.CONNECTOR_STATUS_DISCONNECTED  # counted, still out of service
        back = await stub.ReconnectConnector(
            pb.ReconnectConnectorRequest(**ids, connector_id=created.id))
        assert back.status == pb.CONNECTOR_STATUS_READY
    again = await fails(stub.ReconnectConnector(
        pb.ReconnectConnectorRequest(**ids, connector_id=created.id)))
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION,
                                          "CONNECTOR_TRANSITION_NOT_ALLOWED")
    assert "READY" in again.message and (await _get(stub, tenant, created.id)).status == back.status
    retired = await stub.DeprecateConnector(
        pb.DeprecateConnectorRequest(**ids, connector_id=created.id))
    assert retired.status == pb.CONNECTOR_STATUS_DEPRECATED
    final = await fails(stub.DisconnectConnector(
        pb.DisconnectConnectorRequest(**ids, connector_id=created.id)))
    assert final.reason == "CONNECTOR_TRANSITION_NOT_ALLOWED"
    listed = await stub.ListConnectors(
        pb.ListConnectorsRequest(tenant_id=tenant, status=pb.CONNECTOR_STATUS_DEPRECATED))
    assert [c.id for c in listed.connectors] == [created.id]
