"""Template versions and gateway lifecycles end to end on both storage backends:
UpdateQueryTemplate writes a new version and keeps the old ones readable, gateways pin a version
or follow the latest, ExecuteQuery reports which ran; Disable/Enable/DeleteQueryTemplate,
UpdateGateway/DeleteGateway, list filters; tenant isolation, scopes and bad input (nothing
stored)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, json_format

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.conftest import serve_config
from tests.customer_database import CustomerDatabase, customer_database
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.service.test_sql_gateway import _execute, _gateway, _refused, _template
from tests.support import RunningServer, new_tenant

STRING = pb.PARAMETER_TYPE_STRING
Stub = sql_gateway_pb2_grpc.SqlGatewayServiceStub
V1 = "SELECT 'one' AS v, $1::text AS s"
V2 = "SELECT 'two' AS v, $1::text AS s"
ACTIVE, DISABLED = pb.QUERY_TEMPLATE_STATE_ACTIVE, pb.QUERY_TEMPLATE_STATE_DISABLED


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture
def stub(server: RunningServer) -> Stub:
    return server.stub(Stub)


def _spec() -> pb.ParameterSpec:
    return pb.ParameterSpec(name="s", type=STRING, required=True)


def _mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=paths)


async def _update_sql(stub: Stub, tenant: str, template_id: str, sql: str, etag: str = "") -> Any:
    return await stub.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
        tenant_id=tenant, template=pb.QueryTemplate(id=template_id, sql=sql, etag=etag),
        update_mask=_mask("sql")))


async def _get(stub: Stub, tenant: str, template_id: str, version: int = 0) -> pb.QueryTemplate:
    return await stub.GetQueryTemplate(
        pb.GetQueryTemplateRequest(tenant_id=tenant, template_id=template_id, version=version))


def _v(result: pb.QueryResult) -> str:
    return str(json_format.MessageToDict(result.rows[0])["v"])


async def test_an_update_is_a_new_version_and_old_versions_stay_readable(
    stub: Stub, tenant: str, customer: CustomerDatabase
) -> None:
    first = await _template(stub, tenant, "q", V1, _spec())
    assert (first.version, first.state) == (1, ACTIVE)
    follows = await _gateway(stub, tenant, customer, "q", name="follows")
    pinned = await _gateway(stub, tenant, customer, "q", name="pinned", template_versions={"q": 1})
    assert dict(pinned.template_versions) == {"q": 1}
    second = await _update_sql(stub, tenant, "q", V2, etag=first.etag)
    assert (second.version, second.sql, second.name) == (2, V2, "q")
    assert second.etag != first.etag
    assert second.update_time.ToDatetime() >= first.update_time.ToDatetime()
    assert second.create_time == first.create_time
    assert (await _get(stub, tenant, "q")).version == 2
    old = await _get(stub, tenant, "q", version=1)
    assert (old.version, old.sql) == (1, V1)
    assert old.etag != second.etag
    latest = await _execute(stub, tenant, follows.id, "q", s="x")
    assert (_v(latest), latest.template_version) == ("two", 2)
    kept = await _execute(stub, tenant, pinned.id, "q", s="x")
    assert (_v(kept), kept.template_version) == ("one", 1)
    # Moving the pin (the mask clears it: an empty map is not "populated").
    moved = await stub.UpdateGateway(pb.UpdateGatewayRequest(
        tenant_id=tenant, gateway=pb.Gateway(id=pinned.id, etag=pinned.etag),
        update_mask=_mask("template_versions")))
    assert dict(moved.template_versions) == {} and moved.etag != pinned.etag
    assert (await _execute(stub, tenant, pinned.id, "q", s="x")).template_version == 2
    missing = await _refused(_get(stub, tenant, "q", version=3))
    assert missing.code == grpc.StatusCode.NOT_FOUND
    negative = await _refused(_get(stub, tenant, "q", version=-1))
    assert "version" in negative.field_violations
    described = await stub.DescribeTemplate(
        pb.DescribeTemplateRequest(tenant_id=tenant, template_id="q", version=1))
    assert (described.version, described.etag) == (1, old.etag)


async def test_a_stale_etag_or_bad_update_stores_nothing(
    stub: Stub, tenant: str, other_tenant: str
) -> None:
    first = await _template(stub, tenant, "q", V1, _spec())
    await _update_sql(stub, tenant, "q", V2)
    stale = await _refused(_update_sql(stub, tenant, "q", V1, etag=first.etag))
    assert stale.code == grpc.StatusCode.ABORTED
    bad = await _refused(_update_sql(stub, tenant, "q", "SELECT 1; SELECT $1"))
    assert bad.code == grpc.StatusCode.INVALID_ARGUMENT and "template.sql" in bad.field_violations
    unknown = await _refused(stub.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
        tenant_id=tenant, template=pb.QueryTemplate(id="q"), update_mask=_mask("version"))))
    assert "update_mask.version" in unknown.field_violations
    nothing = await _refused(stub.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
        tenant_id=tenant, template=pb.QueryTemplate(id="q"))))
    assert "template" in nothing.field_violations
    bad_param = await _refused(stub.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
        tenant_id=tenant, template=pb.QueryTemplate(
            id="q", parameters=[pb.ParameterSpec(name="s", type=STRING, pattern="(")]),
        update_mask=_mask("parameters"))))
    assert "template.parameters[0].pattern" in bad_param.field_violations
    bad_id = await _refused(_update_sql(stub, tenant, "Q!", V1))
    assert "template_id" in bad_id.field_violations
    assert (await _get(stub, tenant, "q")).version == 2
    for who, template_id in ((other_tenant, "q"), (tenant, "nope")):
        hidden = await _refused(_update_sql(stub, who, template_id, V1))
        assert hidden.code == grpc.StatusCode.NOT_FOUND


async def test_disable_enable_and_the_state_filter(
    stub: Stub, tenant: str, other_tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "q", V1, _spec())
    await _template(stub, tenant, "r", V1, _spec())
    gateway = await _gateway(stub, tenant, customer, "q")
    hidden = await _refused(stub.DisableQueryTemplate(
        pb.DisableQueryTemplateRequest(tenant_id=other_tenant, template_id="q")))
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    disabled = await stub.DisableQueryTemplate(
        pb.DisableQueryTemplateRequest(tenant_id=tenant, template_id="q"))
    assert (disabled.state, disabled.version) == (DISABLED, 1)
    refused = await _refused(_execute(stub, tenant, gateway.id, "q", s="x"))
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "TEMPLATE_DISABLED")

    async def listed(state: int) -> list[str]:
        page = await stub.ListQueryTemplates(
            pb.ListQueryTemplatesRequest(tenant_id=tenant, state=state))
        return [t.id for t in page.query_templates]

    assert await listed(DISABLED) == ["q"]
    assert await listed(ACTIVE) == ["r"]
    assert await listed(0) == ["q", "r"]
    bad = await _refused(stub.ListQueryTemplates(
        pb.ListQueryTemplatesRequest(tenant_id=tenant, state=9)))
    assert "state" in bad.field_violations
    stale = await _refused(stub.EnableQueryTemplate(pb.EnableQueryTemplateRequest(
        tenant_id=tenant, template_id="q", etag="stale")))
    assert stale.code == grpc.StatusCode.ABORTED
    enabled = await stub.EnableQueryTemplate(pb.EnableQueryTemplateRequest(
        tenant_id=tenant, template_id="q", etag=disabled.etag))
    assert enabled.state == ACTIVE and enabled.etag != disabled.etag
    assert _v(await _execute(stub, tenant, gateway.id, "q", s="x")) == "one"


async def test_delete_template_is_soft_and_keeps_the_id(
    stub: Stub, tenant: str, other_tenant: str, customer: CustomerDatabase
) -> None:
    created = await _template(stub, tenant, "q", V1, _spec())
    await _update_sql(stub, tenant, "q", V2)
    gateway = await _gateway(stub, tenant, customer, "q")
    hidden = await _refused(stub.DeleteQueryTemplate(
        pb.DeleteQueryTemplateRequest(tenant_id=other_tenant, template_id="q")))
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    stale = await _refused(stub.DeleteQueryTemplate(
        pb.DeleteQueryTemplateRequest(tenant_id=tenant, template_id="q", etag=created.etag)))
    assert stale.code == grpc.StatusCode.ABORTED
    deleted = await stub.DeleteQueryTemplate(
        pb.DeleteQueryTemplateRequest(tenant_id=tenant, template_id="q"))
    assert (deleted.deleted, deleted.template_id) == (True, "q")
    for call in (_get(stub, tenant, "q"), _get(stub, tenant, "q", version=1),
                 _execute(stub, tenant, gateway.id, "q", s="x"),
                 stub.DeleteQueryTemplate(pb.DeleteQueryTemplateRequest(tenant_id=tenant, template_id="q"))):
        assert (await _refused(call)).code == grpc.StatusCode.NOT_FOUND
    listed = await stub.ListQueryTemplates(pb.ListQueryTemplatesRequest(tenant_id=tenant))
    assert (list(listed.query_templates), listed.total_size) == ([], 0)
    again = await _refused(_template(stub, tenant, "q", V1, _spec()))
    assert again.code == grpc.StatusCode.ALREADY_EXISTS


async def test_update_and_delete_gateway(
    stub: Stub, tenant: str, other_tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "q", V1, _spec())
    gateway = await _gateway(stub, tenant, customer, "q", name="main")
    other = await _gateway(stub, tenant, customer, name="other")
    updated = await stub.UpdateGateway(pb.UpdateGatewayRequest(
        tenant_id=tenant, gateway=pb.Gateway(id=gateway.id, max_rows=7, etag=gateway.etag)))
    assert (updated.max_rows, updated.name, list(updated.allowed_template_ids)) == (7, "main", ["q"])
    assert updated.update_time.ToDatetime() >= gateway.update_time.ToDatetime()
    got = await stub.GetGateway(pb.GetGatewayRequest(tenant_id=tenant, gateway_id=gateway.id))
    assert got == updated

    async def refused_update(gateway_fields: dict[str, Any], *paths: str, who: str = tenant) -> Any:
        return await _refused(stub.UpdateGateway(pb.UpdateGatewayRequest(
            tenant_id=who, gateway=pb.Gateway(**gateway_fields),
            update_mask=_mask(*paths) if paths else None)))

    cases = [
        ({"id": gateway.id, "template_versions": {"zzz": 1}}, "gateway.template_versions[zzz]"),
        ({"id": gateway.id, "template_versions": {"q": 0}}, "gateway.template_versions[q]"),
        ({"id": gateway.id, "max_rows": -1}, "gateway.max_rows"),
        ({"id": gateway.id, "connection_string_ref": "postgresql://u:p@h/db"},
         "gateway.connection_string_ref"),
        ({"id": "not-a-uuid", "max_rows": 5}, "gateway_id"),
    ]
    for fields, field in cases:
        bad = await refused_update(fields)
        assert bad.code == grpc.StatusCode.INVALID_ARGUMENT, field
        assert field in bad.field_violations, (field, bad.field_violations)
    clash = await refused_update({"id": gateway.id, "name": "other"})
    assert clash.code == grpc.StatusCode.ALREADY_EXISTS
    stale = await refused_update({"id": gateway.id, "max_rows": 3, "etag": gateway.etag})
    assert stale.code == grpc.StatusCode.ABORTED
    hidden = await refused_update({"id": gateway.id, "max_rows": 3}, who=other_tenant)
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    assert await stub.GetGateway(pb.GetGatewayRequest(tenant_id=tenant, gateway_id=gateway.id)) == updated

    async def listed(template_id: str = "") -> list[str]:
        page = await stub.ListGateways(pb.ListGatewaysRequest(tenant_id=tenant, template_id=template_id))
        return [g.name for g in page.gateways]

    assert await listed("q") == ["main"]
    assert await listed() == ["main", "other"]
    bad = await _refused(stub.ListGateways(pb.ListGatewaysRequest(tenant_id=tenant, template_id="Q!")))
    assert "template_id" in bad.field_violations
    hidden = await _refused(stub.DeleteGateway(
        pb.DeleteGatewayRequest(tenant_id=other_tenant, gateway_id=gateway.id)))
    assert hidden.code == grpc.StatusCode.NOT_FOUND
    deleted = await stub.DeleteGateway(pb.DeleteGatewayRequest(tenant_id=tenant, gateway_id=gateway.id))
    assert (deleted.deleted, deleted.gateway_id) == (True, gateway.id)
    for call in (stub.GetGateway(pb.GetGatewayRequest(tenant_id=tenant, gateway_id=gateway.id)),
                 _execute(stub, tenant, gateway.id, "q", s="x")):
        assert (await _refused(call)).code == grpc.StatusCode.NOT_FOUND
    assert await listed() == ["other"]
    reused = await _gateway(stub, tenant, customer, "q", name="main")  # the name is free again
    assert reused.id != gateway.id and other.name == "other"


async def test_a_pin_to_a_missing_version_is_a_failed_precondition(
    stub: Stub, tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "q", V1, _spec())
    gateway = await _gateway(stub, tenant, customer, "q", template_versions={"q": 5})
    refused = await _refused(_execute(stub, tenant, gateway.id, "q", s="x"))
    assert (refused.code, refused.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION, "TEMPLATE_VERSION_MISSING")


SCOPES = {"reader": ["sql.read"], "writer": ["sql.write"]}
TOKENS = {name: register_secret(f"tok-sqllife-{name}-{uuid.uuid4().hex}") for name in SCOPES}
TENANT = new_tenant()


def _as(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[name]}"),)


@pytest.fixture
async def secured(database_url: str, backend: str, tmp_path: Path) -> AsyncIterator[RunningServer]:
    callers = [
        {"name": name, "token_sha256": hashlib.sha256(TOKENS[name].encode()).hexdigest(),
         "scopes": scopes, "tenants": [TENANT]}
        for name, scopes in SCOPES.items()
    ]
    path = tmp_path / "callers.json"
    path.write_text(json.dumps({"callers": callers}))
    async with started(serve_config(database_url, callers_file=str(path)), backend) as server:
        yield server


async def test_lifecycle_rpcs_need_sql_write_and_the_tenant(
    secured: RunningServer, customer: CustomerDatabase
) -> None:
    stub = secured.stub(Stub)
    writer, reader = _as("writer"), _as("reader")
    await stub.CreateQueryTemplate(pb.CreateQueryTemplateRequest(
        tenant_id=TENANT, template=pb.QueryTemplate(id="q", name="q", sql=V1, parameters=[_spec()])),
        metadata=writer)
    gateway = await stub.CreateGateway(pb.CreateGatewayRequest(tenant_id=TENANT, gateway=pb.Gateway(
        name="g", connection_string_ref=customer.ref, allowed_template_ids=["q"])), metadata=writer)

    def calls(tenant: str) -> dict[str, Any]:
        return {
            "UpdateQueryTemplate": lambda m: stub.UpdateQueryTemplate(pb.UpdateQueryTemplateRequest(
                tenant_id=tenant, template=pb.QueryTemplate(id="q", description="d")), metadata=m),
            "DisableQueryTemplate": lambda m: stub.DisableQueryTemplate(
                pb.DisableQueryTemplateRequest(tenant_id=tenant, template_id="q"), metadata=m),
            "EnableQueryTemplate": lambda m: stub.EnableQueryTemplate(
                pb.EnableQueryTemplateRequest(tenant_id=tenant, template_id="q"), metadata=m),
            "UpdateGateway": lambda m: stub.UpdateGateway(pb.UpdateGatewayRequest(
                tenant_id=tenant, gateway=pb.Gateway(id=gateway.id, max_rows=9)), metadata=m),
            "DeleteQueryTemplate": lambda m: stub.DeleteQueryTemplate(
                pb.DeleteQueryTemplateRequest(tenant_id=tenant, template_id="q"), metadata=m),
            "DeleteGateway": lambda m: stub.DeleteGateway(
                pb.DeleteGatewayRequest(tenant_id=tenant, gateway_id=gateway.id), metadata=m),
        }

    for name, call in calls(TENANT).items():
        denied = await _refused(call(reader))
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED, name
        elsewhere = await _refused(calls(new_tenant())[name](writer))
        assert elsewhere.code == grpc.StatusCode.PERMISSION_DENIED, name
        await call(writer)
    versioned = await _refused(stub.GetQueryTemplate(
        pb.GetQueryTemplateRequest(tenant_id=TENANT, template_id="q", version=1), metadata=reader))
    assert versioned.code == grpc.StatusCode.NOT_FOUND  # deleted above
