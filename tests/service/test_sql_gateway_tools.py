"""Templates as tools, end to end on both storage backends: allowed values and patterns checked
before binding, identity-bound parameters filled by the service, and DescribeTemplate's JSON
Schema, with tenant isolation, scopes and bad input (nothing stored)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.conftest import serve_config
from tests.customer_database import CustomerDatabase, customer_database
from tests.secrets_registry import register_secret
from tests.service.servers import started
from tests.service.test_sql_gateway import _execute, _gateway, _refused, _template
from tests.support import RunningServer, new_tenant

STRING = pb.PARAMETER_TYPE_STRING
UUID = pb.PARAMETER_TYPE_UUID
INTEGER = pb.PARAMETER_TYPE_INTEGER
LIST_STRING = pb.PARAMETER_TYPE_LIST_STRING
TENANT_ID = pb.PARAMETER_BINDING_TENANT_ID
CALLER_NAME = pb.PARAMETER_BINDING_CALLER_NAME
Stub = sql_gateway_pb2_grpc.SqlGatewayServiceStub


def _v(value: Any) -> struct_pb2.Value:
    return json_format.ParseDict(value, struct_pb2.Value())


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture
def stub(server: RunningServer) -> Stub:
    return server.stub(Stub)


WHO_SQL = (
    "SELECT $1::uuid::text AS tenant, $2::text AS who, count(*)::int AS n FROM orders "
    "WHERE status = $3 AND customer = ANY($4)"
)


def _who_specs() -> list[pb.ParameterSpec]:
    return [
        pb.ParameterSpec(name="tenant", type=UUID, bound_to=TENANT_ID),
        pb.ParameterSpec(name="who", type=STRING, bound_to=CALLER_NAME),
        pb.ParameterSpec(name="status", type=STRING, required=True,
                         allowed_values=[_v("open"), _v("closed")], description="Order status"),
        pb.ParameterSpec(name="customers", type=LIST_STRING, pattern="customer-[0-9]+",
                         default_value=_v(["customer-1", "customer-2"])),
    ]


async def test_allowed_values_and_patterns_are_checked_before_binding(
    stub: Stub, tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "who", WHO_SQL, *_who_specs())
    gateway = await _gateway(stub, tenant, customer, "who")
    ok = await _execute(stub, tenant, gateway.id, "who", status="open")
    row = json_format.MessageToDict(ok.rows[0])
    assert (row["tenant"], row["who"]) == (tenant, "anonymous")
    assert row["n"] > 0
    refused = await _refused(_execute(stub, tenant, gateway.id, "who", status="void"))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "allowed values ('open', 'closed')" in refused.field_violations["parameters.status"]
    refused = await _refused(
        _execute(stub, tenant, gateway.id, "who", status="open", customers=["customer-1", "x1"])
    )
    assert "must match the pattern" in refused.field_violations["parameters.customers[1]"]
    assert "x1" not in refused.message


@pytest.mark.parametrize("name", ["tenant", "who"])
async def test_a_request_setting_an_identity_bound_parameter_is_refused(
    stub: Stub, tenant: str, other_tenant: str, customer: CustomerDatabase, name: str
) -> None:
    await _template(stub, tenant, "who", WHO_SQL, *_who_specs())
    gateway = await _gateway(stub, tenant, customer, "who")
    refused = await _refused(stub.ExecuteQuery(pb.ExecuteQueryRequest(
        tenant_id=tenant, gateway_id=gateway.id, template_id="who",
        parameters={"status": _v("open"), name: _v(other_tenant)})))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "the service fills it" in refused.field_violations[f"parameters.{name}"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param(pb.ParameterSpec(name="p", type=STRING, pattern="(a"), "pattern", id="bad-regex"),
        pytest.param(pb.ParameterSpec(name="p", type=INTEGER, allowed_values=[_v("x")]),
                     "allowed_values[0]", id="allowed-value-type"),
        pytest.param(pb.ParameterSpec(name="p", type=INTEGER, bound_to=CALLER_NAME), "bound_to",
                     id="bound-integer"),
        pytest.param(pb.ParameterSpec(name="p", type=STRING, bound_to=99), "bound_to",
                     id="unknown-binding"),
        pytest.param(pb.ParameterSpec(name="p", type=STRING, required=True, bound_to=TENANT_ID),
                     "required", id="bound-required"),
    ],
)
async def test_bad_declarations_are_refused_and_nothing_is_stored(
    stub: Stub, tenant: str, spec: pb.ParameterSpec, field: str
) -> None:
    refused = await _refused(_template(stub, tenant, "bad", "SELECT $1::text", spec))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert f"template.parameters[0].{field}" in refused.field_violations
    missing = await _refused(stub.GetQueryTemplate(
        pb.GetQueryTemplateRequest(tenant_id=tenant, template_id="bad")))
    assert missing.code == grpc.StatusCode.NOT_FOUND


async def test_declarations_round_trip(stub: Stub, tenant: str) -> None:
    created = await _template(stub, tenant, "who", WHO_SQL, *_who_specs())
    got = await stub.GetQueryTemplate(pb.GetQueryTemplateRequest(tenant_id=tenant, template_id="who"))
    assert got.parameters == created.parameters
    assert [p.bound_to for p in got.parameters] == [TENANT_ID, CALLER_NAME, 0, 0]
    assert [json_format.MessageToDict(v) for v in got.parameters[2].allowed_values] == ["open", "closed"]
    assert got.parameters[3].pattern == "customer-[0-9]+"


async def test_describe_template_returns_a_json_schema(
    stub: Stub, tenant: str, other_tenant: str
) -> None:
    created = await _template(stub, tenant, "who", WHO_SQL, *_who_specs(), description="Counts")
    described = await stub.DescribeTemplate(
        pb.DescribeTemplateRequest(tenant_id=tenant, template_id="who"))
    schema = json_format.MessageToDict(described.input_schema)
    assert (described.template_id, described.name, described.description, described.etag) == (
        "who", "who", "Counts", created.etag)
    assert schema["type"] == "object" and schema["required"] == ["status"]
    assert schema["properties"]["status"] == {
        "type": "string", "maxLength": 10000, "enum": ["open", "closed"],
        "description": "Order status"}
    assert schema["properties"]["customers"]["items"]["pattern"] == "^(?:customer-[0-9]+)$"
    assert schema["properties"]["customers"]["default"] == ["customer-1", "customer-2"]
    assert schema["properties"]["tenant"]["readOnly"] is True
    assert "SELECT" not in json.dumps(schema)
    hidden = await _refused(stub.DescribeTemplate(
        pb.DescribeTemplateRequest(tenant_id=other_tenant, template_id="who")))
    assert hidden.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        pytest.param({"tenant_id": "not-a-uuid", "template_id": "who"}, "tenant_id", id="tenant"),
        pytest.param({"template_id": "Who?"}, "template_id", id="template-id"),
        pytest.param({"template_id": ""}, "template_id", id="missing-template-id"),
    ],
)
async def test_describe_template_bad_input(
    stub: Stub, tenant: str, request_fields: dict[str, str], field: str
) -> None:
    fields = {"tenant_id": tenant, **request_fields}
    refused = await _refused(stub.DescribeTemplate(pb.DescribeTemplateRequest(**fields)))
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in refused.field_violations


SCOPES = {"reader": ["sql.read"], "agent": ["sql.execute"], "writer": ["sql.write"]}
TOKENS = {name: register_secret(f"tok-sql-{name}-{uuid.uuid4().hex}") for name in SCOPES}
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


async def test_scopes_and_the_callers_name(secured: RunningServer, customer: CustomerDatabase) -> None:
    stub = secured.stub(Stub)
    await stub.CreateQueryTemplate(pb.CreateQueryTemplateRequest(
        tenant_id=TENANT, template=pb.QueryTemplate(
            id="who", name="who", sql=WHO_SQL, parameters=_who_specs())), metadata=_as("writer"))
    gateway = await stub.CreateGateway(pb.CreateGatewayRequest(
        tenant_id=TENANT, gateway=pb.Gateway(
            name="g", connection_string_ref=customer.ref, allowed_template_ids=["who"])),
        metadata=_as("writer"))
    describe = pb.DescribeTemplateRequest(tenant_id=TENANT, template_id="who")
    for name in ("reader", "agent"):
        await stub.DescribeTemplate(describe, metadata=_as(name))
    denied = await _refused(stub.DescribeTemplate(describe, metadata=_as("writer")))
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    other = await _refused(stub.DescribeTemplate(
        pb.DescribeTemplateRequest(tenant_id=new_tenant(), template_id="who"), metadata=_as("agent")))
    assert other.code == grpc.StatusCode.PERMISSION_DENIED
    result = await stub.ExecuteQuery(pb.ExecuteQueryRequest(
        tenant_id=TENANT, gateway_id=gateway.id, template_id="who",
        parameters={"status": _v("open")}), metadata=_as("agent"))
    assert json_format.MessageToDict(result.rows[0])["who"] == "agent"
