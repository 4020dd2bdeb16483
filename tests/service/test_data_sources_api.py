"""DataSourcesService end to end through the real server, on SQLite and PostgreSQL: real
connection tests (local PostgreSQL, loopback HTTP, closed port), lifecycle, statistics, tenant
isolation, and scans proving no secret reaches a response, the log or the database."""

from __future__ import annotations

import asyncio
import logging
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from credentials.v1 import credentials_pb2, credentials_pb2_grpc
from integrations.v1 import data_sources_pb2 as pb
from integrations.v1 import data_sources_pb2_grpc
from tests.loopback_targets import closed_port, http_target, silent_target
from tests.secrets_registry import register_secret
from tests.service.connection_helpers import database_text, fails, log_text, pg_dsn, struct
from tests.support import RunningServer

Stub = data_sources_pb2_grpc.DataSourcesServiceStub
PASSWORD = register_secret("pw-PLAINTEXT-5c1d9e")
API_KEY = register_secret("key-PLAINTEXT-77ab31")
S = pb.DataSourceStatus


def _stub(server: RunningServer) -> Stub:
    return server.stub(Stub)


async def _register(
    stub: Stub,
    tenant: str,
    name: str = "warehouse",
    source_type: int = pb.DATA_SOURCE_TYPE_DATABASE,
    request_id: str = "",
    tags: tuple[str, ...] = (),
    **config: object,
) -> pb.DataSource:
    options = config.pop("options", None)
    message = pb.DataSource(
        name=name, source_type=source_type, tags=list(tags), config=pb.DataSourceConfig(**config)
    )
    if options is not None:
        message.config.options.CopyFrom(struct(options))  # type: ignore[arg-type]
    return await stub.RegisterDataSource(
        pb.RegisterDataSourceRequest(tenant_id=tenant, data_source=message, request_id=request_id)
    )


def _ids(tenant: str, data_source_id: str) -> dict[str, str]:
    return {"tenant_id": tenant, "data_source_id": data_source_id}


async def _get(stub: Stub, tenant: str, data_source_id: str) -> pb.DataSource:
    return await stub.GetDataSource(pb.GetDataSourceRequest(**_ids(tenant, data_source_id)))


async def _test(stub: Stub, tenant: str, data_source_id: str) -> pb.TestDataSourceConnectionResponse:
    return await stub.TestDataSourceConnection(
        pb.TestDataSourceConnectionRequest(**_ids(tenant, data_source_id))
    )


async def test_database_source_connects_to_the_local_postgres_and_walks_its_lifecycle(
    server: RunningServer, tenant: str, postgres_admin_url: str
) -> None:
    stub = _stub(server)
    # trust auth on the local server: the password is stored and sent, and ignored by it.
    created = await _register(
        stub, tenant, connection_string=pg_dsn(postgres_admin_url, password=PASSWORD),
        tags=("prod", "eu"),
    )
    assert created.status == S.DATA_SOURCE_STATUS_PENDING
    assert created.config.password_set and not created.config.password
    assert ":***@" in created.config.connection_string
    result = await _test(stub, tenant, created.id)
    assert result.success, result.message
    assert result.details["method"] == "postgres_select_one"
    counted = await _get(stub, tenant, created.id)
    assert counted.connection_count == 1 and counted.HasField("last_connected_time")

    activated = await stub.ActivateDataSource(pb.ActivateDataSourceRequest(**_ids(tenant, created.id)))
    assert activated.status == S.DATA_SOURCE_STATUS_ACTIVE
    again = await stub.ActivateDataSource(pb.ActivateDataSourceRequest(**_ids(tenant, created.id)))
    assert again.message == "already active"
    inactive = await stub.DeactivateDataSource(
        pb.DeactivateDataSourceRequest(**_ids(tenant, created.id))
    )
    assert inactive.status == S.DATA_SOURCE_STATUS_INACTIVE

    # Point it at a closed port: the stored password may not follow it there until it is sent
    # again; then the test fails, is counted, and the source goes to ERROR.
    moved = pb.DataSourceConfig(host="127.0.0.1", port=closed_port(), username="x")
    mask = field_mask_pb2.FieldMask(paths=["config"])
    await stub.UpdateDataSource(
        pb.UpdateDataSourceRequest(
            tenant_id=tenant, data_source=pb.DataSource(id=created.id, config=moved),
            update_mask=mask,
        )
    )
    denied = await fails(_test(stub, tenant, created.id))
    assert denied.code == grpc.StatusCode.FAILED_PRECONDITION
    assert denied.reason == "CREDENTIAL_DESTINATION_DENIED" and PASSWORD not in denied.message
    moved.password = PASSWORD
    await stub.UpdateDataSource(
        pb.UpdateDataSourceRequest(
            tenant_id=tenant, data_source=pb.DataSource(id=created.id, config=moved),
            update_mask=mask,
        )
    )
    failed = await _test(stub, tenant, created.id)
    assert not failed.success and "refused" in failed.message
    errored = await _get(stub, tenant, created.id)
    assert errored.status == S.DATA_SOURCE_STATUS_ERROR
    assert errored.error_count == 1 and errored.last_error == failed.message
    assert errored.config.password_set  # the stored password was kept
    refused = await fails(
        stub.ActivateDataSource(pb.ActivateDataSourceRequest(**_ids(tenant, created.id)))
    )
    assert refused.code == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.reason == "DATA_SOURCE_NOT_RETESTED" and "ERROR" in refused.message

    # Fix it, test it, and only then may it be activated again.
    await stub.UpdateDataSource(
        pb.UpdateDataSourceRequest(
            tenant_id=tenant,
            data_source=pb.DataSource(
                id=created.id,
                config=pb.DataSourceConfig(
                    connection_string=pg_dsn(postgres_admin_url), password=PASSWORD
                ),
            ),
        )
    )
    assert (await _test(stub, tenant, created.id)).success
    back = await stub.ActivateDataSource(pb.ActivateDataSourceRequest(**_ids(tenant, created.id)))
    assert back.status == S.DATA_SOURCE_STATUS_ACTIVE

    deprecated = await stub.DeprecateDataSource(
        pb.DeprecateDataSourceRequest(**_ids(tenant, created.id))
    )
    assert deprecated.status == S.DATA_SOURCE_STATUS_DEPRECATED
    final = await fails(
        stub.ActivateDataSource(pb.ActivateDataSourceRequest(**_ids(tenant, created.id)))
    )
    assert final.reason == "DATA_SOURCE_TRANSITION_NOT_ALLOWED"
    assert final.metadata["status"] == "DEPRECATED"


async def test_ssl_required_against_a_server_without_tls_fails(
    server: RunningServer, tenant: str, postgres_admin_url: str
) -> None:
    stub = _stub(server)
    created = await _register(
        stub, tenant, connection_string=pg_dsn(postgres_admin_url), ssl_enabled=True
    )
    result = await _test(stub, tenant, created.id)
    assert not result.success and result.details["error_code"] == "tls"


async def test_api_and_tcp_sources(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    async with http_target(200) as target:
        api = await _register(
            stub, tenant, "api", pb.DATA_SOURCE_TYPE_API, api_key=API_KEY,
            options={"url": target.url},
        )
        assert api.config.api_key_set and not api.config.api_key
        assert (await _test(stub, tenant, api.id)).success
        assert target.requests[0]["authorization"] == f"Bearer {API_KEY}"
    async with http_target(401) as target:
        locked = await _register(
            stub, tenant, "locked", pb.DATA_SOURCE_TYPE_API, connection_string=target.url
        )
        denied = await _test(stub, tenant, locked.id)
    assert not denied.success and denied.details["error_code"] == "auth_failed"
    async with silent_target() as port:
        stream = await _register(
            stub, tenant, "stream", pb.DATA_SOURCE_TYPE_STREAM, host="127.0.0.1", port=port
        )
        assert (await _test(stub, tenant, stream.id)).success
    nothing = await _register(stub, tenant, "docs", pb.DATA_SOURCE_TYPE_DOCUMENT)
    empty = await _test(stub, tenant, nothing.id)
    assert not empty.success and empty.details["error_code"] == "no_endpoint"


async def test_filters_and_statistics(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    port = closed_port()
    a = await _register(stub, tenant, "a", host="127.0.0.1", port=port, tags=("prod",))
    await _register(stub, tenant, "b", host="127.0.0.1", port=port, tags=("dev",))
    c = await _register(stub, tenant, "c", pb.DATA_SOURCE_TYPE_FILE, tags=("prod",))
    await stub.ActivateDataSource(pb.ActivateDataSourceRequest(**_ids(tenant, c.id)))
    await _test(stub, tenant, a.id)  # refused -> ERROR

    async def names(**filters: object) -> list[str]:
        page = await stub.ListDataSources(pb.ListDataSourcesRequest(tenant_id=tenant, **filters))
        assert page.total_size == len(page.data_sources)
        return [d.name for d in page.data_sources]

    assert await names(tag="prod") == ["a", "c"]
    assert await names(source_type=pb.DATA_SOURCE_TYPE_DATABASE) == ["a", "b"]
    assert await names(status=S.DATA_SOURCE_STATUS_ERROR) == ["a"]
    assert await names(tag="prod", status=S.DATA_SOURCE_STATUS_ACTIVE) == ["c"]
    bad_tag = await fails(stub.ListDataSources(pb.ListDataSourcesRequest(tenant_id=tenant, tag="no tag")))
    assert "tag" in bad_tag.field_violations

    stats = await stub.GetDataSourceStatistics(
        pb.GetDataSourceStatisticsRequest(tenant_id=tenant)
    )
    assert (stats.total_sources, stats.active_sources, stats.error_sources,
            stats.pending_sources, stats.inactive_sources) == (3, 1, 1, 1, 0)
    assert dict(stats.sources_by_type) == {
        "DATA_SOURCE_TYPE_DATABASE": 2, "DATA_SOURCE_TYPE_FILE": 1
    }
    assert (stats.total_connections, stats.total_errors) == (0, 1)


async def test_bad_input_names_fields_and_leaves_data_intact(
    server: RunningServer, tenant: str
) -> None:
    stub = _stub(server)
    error = await fails(
        _register(
            stub, tenant, "", connection_string=f"postgresql://u:{PASSWORD}@h/x?x=1",
            password="another", port=-1, options={"client_secret": PASSWORD},
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.field_violations) == {
        "data_source.name", "data_source.config.password", "data_source.config.port",
        "data_source.config.options.client_secret",
    }
    assert PASSWORD not in error.message
    # not a URL at all (urllib raises on it), with and without an idempotency key
    for request_id in ("", "retry-1"):
        broken = await fails(_register(stub, tenant, "broken", request_id=request_id,
                                       connection_string=f"http://u:{PASSWORD}@[::1"))
        assert broken.code == grpc.StatusCode.INVALID_ARGUMENT and PASSWORD not in broken.message
        assert "data_source.config.connection_string" in broken.field_violations
    created = await _register(stub, tenant, host="db.example", password=PASSWORD, tags=("a",))
    bad = await fails(
        stub.UpdateDataSource(
            pb.UpdateDataSourceRequest(
                tenant_id=tenant,
                data_source=pb.DataSource(
                    id=created.id, description="new", tags=["bad tag"],
                    config=pb.DataSourceConfig(host="db2", password="other-" + PASSWORD),
                ),
            )
        )
    )
    assert set(bad.field_violations) == {"data_source.tags[0]"}
    assert await _get(stub, tenant, created.id) == created
    stale = await fails(
        stub.UpdateDataSource(
            pb.UpdateDataSourceRequest(
                tenant_id=tenant,
                data_source=pb.DataSource(id=created.id, description="x", etag="stale"),
            )
        )
    )
    assert stale.code == grpc.StatusCode.ABORTED
    duplicate = await fails(_register(stub, tenant, host="h"))
    assert duplicate.code == grpc.StatusCode.ALREADY_EXISTS
    again = await _register(stub, tenant, "second", request_id="rq", host="h")
    assert await _register(stub, tenant, "second", request_id="rq", host="h") == again


async def test_another_tenant_gets_not_found_in_every_rpc(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    mine = await _register(stub, tenant, host="127.0.0.1", port=closed_port())
    missing = str(uuid.uuid4())

    def calls(tenant_id: str, data_source_id: str) -> list:  # type: ignore[type-arg]
        ids = _ids(tenant_id, data_source_id)
        return [
            stub.GetDataSource(pb.GetDataSourceRequest(**ids)),
            stub.UpdateDataSource(
                pb.UpdateDataSourceRequest(
                    tenant_id=tenant_id,
                    data_source=pb.DataSource(id=data_source_id, description="stolen"),
                )
            ),
            stub.TestDataSourceConnection(pb.TestDataSourceConnectionRequest(**ids)),
            stub.ActivateDataSource(pb.ActivateDataSourceRequest(**ids)),
            stub.DeactivateDataSource(pb.DeactivateDataSourceRequest(**ids)),
            stub.DeprecateDataSource(pb.DeprecateDataSourceRequest(**ids)),
            stub.DeleteDataSource(pb.DeleteDataSourceRequest(**ids)),
        ]

    for theirs, absent in zip(calls(other_tenant, mine.id), calls(tenant, missing), strict=True):
        denied, not_there = await fails(theirs), await fails(absent)
        assert denied.code == not_there.code == grpc.StatusCode.NOT_FOUND
        assert denied.message == not_there.message.replace(missing, mine.id)
    listed = await stub.ListDataSources(pb.ListDataSourcesRequest(tenant_id=other_tenant))
    stats = await stub.GetDataSourceStatistics(
        pb.GetDataSourceStatisticsRequest(tenant_id=other_tenant)
    )
    assert listed.total_size == 0 and stats.total_sources == 0
    assert await _get(stub, tenant, mine.id) == mine


async def _credential_names(server: RunningServer, tenant: str) -> list[str]:
    """The tenant's live credentials, named without their random suffix."""
    stub = server.stub(credentials_pb2_grpc.CredentialServiceStub)
    reply = await stub.ListCredentials(credentials_pb2.ListCredentialsRequest(tenant_id=tenant))
    assert reply.total_size == len(reply.credentials)
    return sorted(c.name.rsplit("/", 1)[0] for c in reply.credentials)


async def test_no_secret_reaches_responses_logs_or_the_database(
    server: RunningServer, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stub = _stub(server)
    responses: list[object] = []
    db = await _register(
        stub, tenant, "db", connection_string=f"postgresql://app:{PASSWORD}@127.0.0.1:{closed_port()}/x"
    )
    api = await _register(
        stub, tenant, "api", pb.DATA_SOURCE_TYPE_API, api_key=API_KEY,
        options={"url": f"http://127.0.0.1:{closed_port()}/"},
    )
    responses += [db, api]
    rotated = await stub.UpdateDataSource(
        pb.UpdateDataSourceRequest(
            tenant_id=tenant,
            data_source=pb.DataSource(
                id=db.id,
                config=pb.DataSourceConfig(
                    connection_string=db.config.connection_string, password="rotated-" + PASSWORD
                ),
            ),
        )
    )
    responses += [rotated, await _test(stub, tenant, db.id), await _test(stub, tenant, api.id)]
    responses.append(await stub.ListDataSources(pb.ListDataSourcesRequest(tenant_id=tenant)))
    responses.append(await fails(
        _register(stub, tenant, "db", connection_string=f"postgresql://a:{PASSWORD}@h/x")
    ))
    # Each secret is one credential of the tenant; a rotated one is revoked, and deleting the
    # data source revokes its own.
    assert await _credential_names(server, tenant) == sorted(
        [f"data-source/{api.id}/api_key", f"data-source/{db.id}/password"]
    )
    await stub.DeleteDataSource(pb.DeleteDataSourceRequest(**_ids(tenant, api.id)))
    assert await _credential_names(server, tenant) == [f"data-source/{db.id}/password"]

    assert db.config.connection_string.startswith("postgresql://app:***@127.0.0.1:")
    stored = await database_text(server)
    logged = log_text(caplog.records)
    # The scans do see the data: the masked string is stored and every RPC is logged.
    assert db.config.connection_string.encode() in stored
    assert "RegisterDataSource" in logged and "TestDataSourceConnection" in logged
    for secret in (PASSWORD, API_KEY):
        assert all(secret not in str(r) for r in responses), secret
        assert secret not in logged, secret
        assert secret.encode() not in stored, secret


async def test_concurrent_tests_are_all_counted(server: RunningServer, tenant: str) -> None:
    stub = _stub(server)
    async with silent_target() as port:
        source = await _register(
            stub, tenant, "busy", pb.DATA_SOURCE_TYPE_STREAM, host="127.0.0.1", port=port
        )
        results = await asyncio.gather(*(_test(stub, tenant, source.id) for _ in range(8)))
    assert all(r.success for r in results)
    counted = await _get(stub, tenant, source.id)
    assert counted.connection_count == 8 and counted.error_count == 0


async def test_stored_secrets_can_be_cleared_not_only_replaced(
    server: RunningServer, tenant: str, other_tenant: str
) -> None:
    stub = _stub(server)
    url = f"http://127.0.0.1:{closed_port()}/"
    api = await _register(stub, tenant, "api", pb.DATA_SOURCE_TYPE_API, api_key=API_KEY,
                          options={"url": url})
    db = await _register(stub, tenant, "db", host="127.0.0.1", username="app", password=PASSWORD)
    assert api.config.api_key_set and db.config.password_set

    def update(source: pb.DataSource, tenant_id: str = tenant, **config: object) -> object:
        options = config.pop("options", None)
        message = pb.DataSource(id=source.id, config=pb.DataSourceConfig(**config))
        if options is not None:
            message.config.options.CopyFrom(struct(options))  # type: ignore[arg-type]
        return stub.UpdateDataSource(pb.UpdateDataSourceRequest(
            tenant_id=tenant_id, data_source=message,
            update_mask=field_mask_pb2.FieldMask(paths=["config"])))

    # bad combinations name the field and change nothing
    both = await fails(update(db, host="127.0.0.1", password="new", clear_password=True))
    assert both.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "data_source.config.clear_password" in both.field_violations
    masked = await fails(update(db, connection_string="postgresql://app:***@127.0.0.1/x",
                                clear_password=True))
    assert "data_source.config.connection_string" in masked.field_violations
    foreign = await fails(update(db, other_tenant, host="127.0.0.1", clear_password=True))
    assert foreign.code == grpc.StatusCode.NOT_FOUND
    assert (await _get(stub, tenant, db.id)).config.password_set
    assert await _credential_names(server, tenant) == sorted(
        [f"data-source/{api.id}/api_key", f"data-source/{db.id}/password"])

    cleared = await update(db, host="127.0.0.1", username="app", clear_password=True)
    assert not cleared.config.password_set  # type: ignore[attr-defined]
    cleared_api = await update(api, options={"url": url}, clear_api_key=True)
    assert not cleared_api.config.api_key_set  # type: ignore[attr-defined]
    assert not (await _get(stub, tenant, api.id)).config.api_key_set
    assert await _credential_names(server, tenant) == []  # both credentials revoked
    # an empty password on a later update still keeps "none"; a new one can be set again
    kept = await update(db, host="127.0.0.1", username="app")
    assert not kept.config.password_set  # type: ignore[attr-defined]
    again = await update(db, host="127.0.0.1", username="app", password=PASSWORD)
    assert again.config.password_set  # type: ignore[attr-defined]
