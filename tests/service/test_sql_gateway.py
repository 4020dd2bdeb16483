"""SqlGatewayService end to end: a real server (on each storage backend) running templates on a
real customer database reached through an `env://` credential ref."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format, struct_pb2

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.customer_database import ORDER_COUNT, CustomerDatabase, customer_database
from tests.support import RunningServer, rich_error

STRING = pb.PARAMETER_TYPE_STRING
INTEGER = pb.PARAMETER_TYPE_INTEGER


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture
def stub(server: RunningServer) -> sql_gateway_pb2_grpc.SqlGatewayServiceStub:
    return server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)


def _values(**values: Any) -> dict[str, struct_pb2.Value]:
    return {k: json_format.ParseDict(v, struct_pb2.Value()) for k, v in values.items()}


async def _template(stub: Any, tenant: str, template_id: str, sql: str, *specs: pb.ParameterSpec,
                    **fields: Any) -> pb.QueryTemplate:
    fields.setdefault("read_only", True)
    return await stub.CreateQueryTemplate(
        pb.CreateQueryTemplateRequest(
            tenant_id=tenant,
            template=pb.QueryTemplate(
                id=template_id, name=template_id, sql=sql, parameters=specs, **fields
            ),
        )
    )


async def _gateway(stub: Any, tenant: str, customer: CustomerDatabase, *allowed: str,
                   **fields: Any) -> pb.Gateway:
    return await stub.CreateGateway(
        pb.CreateGatewayRequest(
            tenant_id=tenant,
            gateway=pb.Gateway(
                name=fields.pop("name", "warehouse"),
                connection_string_ref=customer.ref,
                allowed_template_ids=allowed,
                **fields,
            ),
        )
    )


async def _execute(stub: Any, tenant: str, gateway_id: str, template_id: str,
                   **params: Any) -> pb.QueryResult:
    return await stub.ExecuteQuery(
        pb.ExecuteQueryRequest(
            tenant_id=tenant, gateway_id=gateway_id, template_id=template_id,
            parameters=_values(**params),
        )
    )


async def _refused(call: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return rich_error(caught.value)


@pytest.fixture
async def orders_setup(stub: Any, tenant: str, customer: CustomerDatabase) -> pb.Gateway:
    await _template(
        stub, tenant, "orders-by-status",
        "SELECT id, customer, amount, placed_on, ref FROM orders "
        "WHERE status = $1 AND id <= $2 ORDER BY id",
        pb.ParameterSpec(name="status", type=STRING, required=True, max_length=16),
        pb.ParameterSpec(
            name="max_id", type=INTEGER, default_value=struct_pb2.Value(number_value=10),
            min_value=1, max_value=1000,
        ),
        max_rows=100,
    )
    await _template(
        stub, tenant, "add-audit", "INSERT INTO audit (note) VALUES ($1) RETURNING id",
        pb.ParameterSpec(name="note", type=STRING, required=True), read_only=False,
    )
    return await _gateway(stub, tenant, customer, "orders-by-status", "add-audit")


async def test_execute_binds_coerces_and_reports_ignored_parameters(
    stub: Any, tenant: str, orders_setup: pb.Gateway
) -> None:
    result = await _execute(
        stub, tenant, orders_setup.id, "orders-by-status", status="open", max_id="6", extra=1,
        other="x",
    )
    assert list(result.columns) == ["id", "customer", "amount", "placed_on", "ref"]
    rows = [json_format.MessageToDict(r) for r in result.rows]
    assert [r["id"] for r in rows] == [2, 4, 6]
    assert rows[0] == {
        "id": 2, "customer": "customer-2", "amount": 20.5, "placed_on": "2024-01-03",
        "ref": "00000000-0000-0000-0000-000000000002",
    }
    assert (result.row_count, result.truncated) == (3, False)
    assert list(result.ignored_parameters) == ["extra", "other"]
    assert result.result_bytes == pb.QueryResult(rows=result.rows).ByteSize()
    defaulted = await _execute(stub, tenant, orders_setup.id, "orders-by-status", status="open")
    assert defaulted.row_count == 5  # max_id defaults to 10


async def test_connection_string_is_neither_stored_nor_returned(
    stub: Any, tenant: str, server: RunningServer, customer: CustomerDatabase,
    orders_setup: pb.Gateway,
) -> None:
    fetched = await stub.GetGateway(pb.GetGatewayRequest(tenant_id=tenant, gateway_id=orders_setup.id))
    assert fetched.connection_string_ref == customer.ref
    assert customer.dsn not in str(fetched)
    assert fetched.read_only is True and fetched.max_rows == 1000
    assert fetched.max_result_bytes == 5 * 1024 * 1024 and fetched.timeout_seconds == 30
    raw = await _refused(
        stub.CreateGateway(
            pb.CreateGatewayRequest(
                tenant_id=tenant,
                gateway=pb.Gateway(name="raw", connection_string_ref=customer.dsn),
            )
        )
    )
    assert raw.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "gateway.connection_string_ref" in raw.field_violations
    assert customer.dsn not in raw.message + str(raw.field_violations)
    listed = await stub.ListGateways(pb.ListGatewaysRequest(tenant_id=tenant))
    assert [g.name for g in listed.gateways] == ["warehouse"]


async def test_write_template_on_read_only_gateway_is_refused_and_data_unchanged(
    stub: Any, tenant: str, customer: CustomerDatabase, orders_setup: pb.Gateway
) -> None:
    before = await customer.fingerprint()
    err = await _refused(_execute(stub, tenant, orders_setup.id, "add-audit", note="hello"))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "GATEWAY_READ_ONLY"
    assert await customer.fingerprint() == before


async def test_write_gateway_runs_write_templates(
    stub: Any, tenant: str, customer: CustomerDatabase, orders_setup: pb.Gateway
) -> None:
    writer = await _gateway(stub, tenant, customer, "add-audit", name="writer", read_only=False)
    result = await _execute(stub, tenant, writer.id, "add-audit", note="e2e-write")
    assert result.row_count == 1
    assert await customer.fetchval("SELECT count(*) FROM audit WHERE note = 'e2e-write'") == 1
    await customer.fetchval("DELETE FROM audit WHERE note = 'e2e-write' RETURNING 1")


async def test_read_only_template_with_hidden_write_is_refused_at_registration(
    stub: Any, tenant: str
) -> None:
    # The READ ONLY transaction would refuse it too (tests/drivers/test_sql_gateway_pool.py).
    err = await _refused(_template(
        stub, tenant, "sneaky",
        "WITH gone AS (DELETE FROM orders WHERE id = $1 RETURNING id) SELECT id FROM gone",
        pb.ParameterSpec(name="id", type=INTEGER, required=True),
    ))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "DELETE" in err.field_violations["template.sql"]
    missing = await _refused(
        stub.GetQueryTemplate(pb.GetQueryTemplateRequest(tenant_id=tenant, template_id="sneaky"))
    )
    assert missing.code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        pytest.param({}, "parameters.status", "", id="missing-required"),
        pytest.param({"status": 5}, "parameters.status", "", id="wrong-type"),
        pytest.param({"status": "x" * 17}, "parameters.status", "", id="too-long"),
        pytest.param({"status": "open", "max_id": 5000}, "parameters.max_id", "", id="out-of-range"),
        pytest.param({"status": "open", "max_id": 1.5}, "parameters.max_id", "", id="fraction"),
        pytest.param({"status": "x' OR 1=1;--"}, "parameters.status", "SQL_INJECTION_SUSPECTED",
                     id="injection-comment"),
        pytest.param({"status": "a UNION SELECT"}, "parameters.status", "SQL_INJECTION_SUSPECTED",
                     id="injection-union"),
    ],
)
async def test_bad_parameters_are_invalid_and_leave_data_intact(
    stub: Any, tenant: str, customer: CustomerDatabase, orders_setup: pb.Gateway,
    params: dict[str, Any], field: str, reason: str,
) -> None:
    before = await customer.fingerprint()
    err = await _refused(_execute(stub, tenant, orders_setup.id, "orders-by-status", **params))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in err.field_violations
    assert err.reason == reason
    assert await customer.fingerprint() == before


async def test_unknown_and_disallowed_templates(
    stub: Any, tenant: str, customer: CustomerDatabase, orders_setup: pb.Gateway
) -> None:
    before = await customer.fingerprint()
    missing = await _refused(_execute(stub, tenant, orders_setup.id, "no-such-template"))
    assert missing.code == grpc.StatusCode.NOT_FOUND
    await _template(stub, tenant, "not-allowed", "DELETE FROM orders RETURNING id", read_only=False)
    denied = await _refused(_execute(stub, tenant, orders_setup.id, "not-allowed"))
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    assert denied.reason == "TEMPLATE_NOT_ALLOWED"
    assert await customer.fingerprint() == before


async def test_row_and_byte_caps_through_the_api(
    stub: Any, tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "all-numbers", "SELECT n, pad FROM numbers ORDER BY n", max_rows=50)
    narrow = await _gateway(stub, tenant, customer, "all-numbers", name="narrow", max_rows=20)
    capped = await _execute(stub, tenant, narrow.id, "all-numbers")
    assert (capped.row_count, capped.truncated) == (20, True)
    assert capped.truncation_reason == pb.TRUNCATION_REASON_MAX_ROWS
    small = await _gateway(stub, tenant, customer, "all-numbers", name="small", max_result_bytes=1000)
    squeezed = await _execute(stub, tenant, small.id, "all-numbers")
    assert squeezed.truncated and squeezed.truncation_reason == pb.TRUNCATION_REASON_MAX_RESULT_BYTES
    assert 0 < squeezed.result_bytes <= 1000
    assert pb.QueryResult(rows=squeezed.rows).ByteSize() == squeezed.result_bytes


async def test_timeout_is_deadline_exceeded(stub: Any, tenant: str, customer: CustomerDatabase) -> None:
    await _template(stub, tenant, "slow", "SELECT pg_sleep(20)", timeout_seconds=1)
    gateway = await _gateway(stub, tenant, customer, "slow", name="slow")
    err = await _refused(_execute(stub, tenant, gateway.id, "slow"))
    assert err.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert err.reason == "QUERY_TIMEOUT"


async def test_database_errors_are_failed_precondition_with_its_message(
    stub: Any, tenant: str, customer: CustomerDatabase
) -> None:
    await _template(stub, tenant, "broken", "SELECT * FROM no_such_table")
    gateway = await _gateway(stub, tenant, customer, "broken", name="broken")
    err = await _refused(_execute(stub, tenant, gateway.id, "broken"))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "no_such_table" in err.message
    assert customer.dsn not in err.message


async def test_template_registration_rules(stub: Any, tenant: str) -> None:
    chained = await _refused(_template(stub, tenant, "chain", "SELECT 1; DELETE FROM orders"))
    assert chained.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "template.sql" in chained.field_violations
    gap = await _refused(
        _template(stub, tenant, "gap", "SELECT $2", pb.ParameterSpec(name="a", type=STRING))
    )
    assert "template.sql" in gap.field_violations
    bad_id = await _refused(_template(stub, tenant, "Bad_Id", "SELECT 1"))
    assert "template.id" in bad_id.field_violations
    created = await stub.CreateQueryTemplate(
        pb.CreateQueryTemplateRequest(
            tenant_id=tenant, template=pb.QueryTemplate(id="fine", name="fine", sql="SELECT 1 AS one")
        )
    )
    assert (created.max_rows, created.timeout_seconds, created.read_only) == (1000, 30, True)
    again = await _refused(_template(stub, tenant, "fine", "SELECT 2"))
    assert again.code == grpc.StatusCode.ALREADY_EXISTS
    fetched = await stub.GetQueryTemplate(pb.GetQueryTemplateRequest(tenant_id=tenant, template_id="fine"))
    assert fetched == created


async def test_idempotent_creates_and_paged_lists(stub: Any, tenant: str, customer: CustomerDatabase) -> None:
    request = pb.CreateQueryTemplateRequest(
        tenant_id=tenant, request_id="once",
        template=pb.QueryTemplate(id="t-0", name="t", sql="SELECT 1"),
    )
    for _ in range(3):
        assert (await stub.CreateQueryTemplate(request)).id == "t-0"
    for n in range(3):
        await _template(stub, tenant, f"more-{n}", "SELECT 1")
    page = await stub.ListQueryTemplates(pb.ListQueryTemplatesRequest(tenant_id=tenant, page_size=3))
    rest = await stub.ListQueryTemplates(
        pb.ListQueryTemplatesRequest(tenant_id=tenant, page_size=3, page_token=page.next_page_token)
    )
    assert page.total_size == 4
    assert [t.id for t in [*page.query_templates, *rest.query_templates]] == [
        "t-0", "more-0", "more-1", "more-2"
    ]
    gateway_request = pb.CreateGatewayRequest(
        tenant_id=tenant, request_id="gw-once",
        gateway=pb.Gateway(name="g", connection_string_ref=customer.ref),
    )
    assert (await stub.CreateGateway(gateway_request)).id == (await stub.CreateGateway(gateway_request)).id


async def test_every_rpc_hides_other_tenants_resources(
    stub: Any, tenant: str, other_tenant: str, customer: CustomerDatabase, orders_setup: pb.Gateway
) -> None:
    before = await customer.fingerprint()
    calls = {
        "GetQueryTemplate": stub.GetQueryTemplate(
            pb.GetQueryTemplateRequest(tenant_id=other_tenant, template_id="orders-by-status")
        ),
        "GetGateway": stub.GetGateway(
            pb.GetGatewayRequest(tenant_id=other_tenant, gateway_id=orders_setup.id)
        ),
        "ExecuteQuery": _execute(stub, other_tenant, orders_setup.id, "orders-by-status", status="open"),
    }
    for name, call in calls.items():
        err = await _refused(call)
        assert err.code == grpc.StatusCode.NOT_FOUND, name
    missing_template = await _refused(
        stub.GetQueryTemplate(pb.GetQueryTemplateRequest(tenant_id=other_tenant, template_id="nope"))
    )
    hidden_template = await _refused(
        stub.GetQueryTemplate(
            pb.GetQueryTemplateRequest(tenant_id=other_tenant, template_id="orders-by-status")
        )
    )
    assert hidden_template.message == missing_template.message.replace("'nope'", "'orders-by-status'")
    missing_gateway_id = "00000000-0000-4000-8000-000000000000"
    missing_gateway = await _refused(
        stub.GetGateway(pb.GetGatewayRequest(tenant_id=other_tenant, gateway_id=missing_gateway_id))
    )
    hidden_gateway = await _refused(
        stub.GetGateway(pb.GetGatewayRequest(tenant_id=other_tenant, gateway_id=orders_setup.id))
    )
    assert hidden_gateway.message == missing_gateway.message.replace(missing_gateway_id, orders_setup.id)
    # The other tenant's own template of the same id does not unlock the first tenant's gateway.
    await _template(stub, other_tenant, "orders-by-status", "SELECT 1 AS one")
    err = await _refused(_execute(stub, other_tenant, orders_setup.id, "orders-by-status"))
    assert err.code == grpc.StatusCode.NOT_FOUND
    # Names and ids are per tenant: the same gateway name is free for the other tenant.
    theirs = await _gateway(stub, other_tenant, customer, "orders-by-status")
    assert theirs.name == orders_setup.name and theirs.id != orders_setup.id
    templates = await stub.ListQueryTemplates(pb.ListQueryTemplatesRequest(tenant_id=other_tenant))
    gateways = await stub.ListGateways(pb.ListGatewaysRequest(tenant_id=other_tenant))
    assert [t.sql for t in templates.query_templates] == ["SELECT 1 AS one"]
    assert [g.id for g in gateways.gateways] == [theirs.id]
    assert await customer.fingerprint() == before


async def test_orders_fixture_is_intact(customer: CustomerDatabase) -> None:
    assert await customer.fetchval("SELECT count(*) FROM orders") == ORDER_COUNT


ALL_TYPES_SQL = (
    "SELECT $1::text AS s, $2::bigint AS i, $3::float8 AS f, $4::bool AS b, $5::date AS d, "
    "$6::timestamptz AS ts, $7::uuid AS u, $8::text[] AS ls, $9::bigint[] AS li, "
    "(SELECT count(*) FROM orders WHERE customer = ANY($8) AND id = ANY($9)) AS matches"
)
ALL_TYPES = [
    ("s", pb.PARAMETER_TYPE_STRING), ("i", pb.PARAMETER_TYPE_INTEGER),
    ("f", pb.PARAMETER_TYPE_FLOAT), ("b", pb.PARAMETER_TYPE_BOOLEAN),
    ("d", pb.PARAMETER_TYPE_DATE), ("ts", pb.PARAMETER_TYPE_TIMESTAMP),
    ("u", pb.PARAMETER_TYPE_UUID), ("ls", pb.PARAMETER_TYPE_LIST_STRING),
    ("li", pb.PARAMETER_TYPE_LIST_INT),
]
VALID: dict[str, Any] = {
    "s": "O'Brien", "i": "9007199254740993", "f": 2.5, "b": "yes", "d": "2024-02-29",
    "ts": "2024-05-01T12:00:00+02:00", "u": "6F1B0A3E-0000-4000-8000-000000000001",
    "ls": ["customer-1", "customer-2"], "li": [1, 2, 3, 8, 9],
}


@pytest.fixture
async def all_types_gateway(stub: Any, tenant: str, customer: CustomerDatabase) -> pb.Gateway:
    await _template(
        stub, tenant, "all-types", ALL_TYPES_SQL,
        *(pb.ParameterSpec(name=name, type=kind, required=True) for name, kind in ALL_TYPES),
    )
    return await _gateway(stub, tenant, customer, "all-types", name="typed")


async def test_every_parameter_type_binds_on_postgres(
    stub: Any, tenant: str, all_types_gateway: pb.Gateway
) -> None:
    result = await _execute(stub, tenant, all_types_gateway.id, "all-types", **VALID)
    assert json_format.MessageToDict(result.rows[0]) == {
        "s": "O'Brien", "i": "9007199254740993", "f": 2.5, "b": True, "d": "2024-02-29",
        "ts": "2024-05-01T10:00:00+00:00", "u": "6f1b0a3e-0000-4000-8000-000000000001",
        "ls": ["customer-1", "customer-2"], "li": [1, 2, 3, 8, 9], "matches": 4,
    }


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        pytest.param("s", ["x"], id="string"), pytest.param("i", 1.5, id="integer"),
        pytest.param("f", "fast", id="float"), pytest.param("b", "perhaps", id="boolean"),
        pytest.param("d", "29/02/2024", id="date"), pytest.param("ts", "noon", id="timestamp"),
        pytest.param("u", "1234", id="uuid"), pytest.param("ls", [1], id="list-string"),
        pytest.param("li", ["one"], id="list-int"),
    ],
)
async def test_every_parameter_type_refuses_bad_values(
    stub: Any, tenant: str, customer: CustomerDatabase, all_types_gateway: pb.Gateway,
    name: str, bad: Any,
) -> None:
    before = await customer.fingerprint()
    err = await _refused(
        _execute(stub, tenant, all_types_gateway.id, "all-types", **{**VALID, name: bad})
    )
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [f.split("[")[0] for f in err.field_violations] == [f"parameters.{name}"]
    assert await customer.fingerprint() == before
