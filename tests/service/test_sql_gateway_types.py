"""The type suite end to end on both storage backends: one template returning every built-in
PostgreSQL type (tests/sql_type_cases.py), edge DATE and TIMESTAMP values bound as parameters,
and the errors a caller can trigger with values (never INTERNAL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from integrations.v1 import sql_gateway_pb2 as pb
from integrations.v1 import sql_gateway_pb2_grpc
from tests.customer_database import CustomerDatabase, customer_database
from tests.service.test_sql_gateway import _execute, _gateway, _refused, _template
from tests.sql_type_cases import RESULT_CASES
from tests.support import RunningServer

DATE, TIMESTAMP = pb.PARAMETER_TYPE_DATE, pb.PARAMETER_TYPE_TIMESTAMP


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture
def stub(server: RunningServer) -> sql_gateway_pb2_grpc.SqlGatewayServiceStub:
    return server.stub(sql_gateway_pb2_grpc.SqlGatewayServiceStub)


def _column(case_id: str) -> str:
    return case_id.replace("-", "_")


async def test_every_type_renders_over_grpc(
    stub: Any, tenant: str, customer: CustomerDatabase
) -> None:
    columns = ", ".join(f"{expression} AS {_column(i)}" for i, expression, _ in RESULT_CASES)
    await _template(stub, tenant, "every-type", f"SELECT {columns}")
    gateway = await _gateway(stub, tenant, customer, "every-type")
    result = await _execute(stub, tenant, gateway.id, "every-type")
    row = json_format.MessageToDict(result.rows[0])
    expected = {_column(i): value for i, _, value in RESULT_CASES}
    # Struct numbers are doubles: compare numbers as numbers.
    assert {k: row.get(k) for k in expected} == expected
    assert "object at 0x" not in str(row)


@pytest.mark.parametrize(
    ("sql", "kind", "value", "expected"),
    [
        pytest.param("SELECT $1::date::text AS v", DATE, "0001-01-01", "0001-01-01", id="date-min"),
        pytest.param("SELECT $1::date::text AS v", DATE, "9999-12-31", "9999-12-31", id="date-max"),
        pytest.param("SELECT $1::timestamptz::text AS v", TIMESTAMP, "0001-01-01T00:00:00Z",
                     "0001-01-01 00:00:00+00", id="timestamp-min"),
        pytest.param("SELECT $1::timestamptz + interval '1 day' AS v", TIMESTAMP,
                     "9999-12-31T12:00:00Z", "10000-01-01T12:00:00+00:00", id="past-9999"),
        pytest.param("SELECT $1::date - 1 AS v", DATE, "0001-01-01", "0001-12-31 BC", id="bc"),
    ],
)
async def test_edge_values_bind_exactly(
    stub: Any, tenant: str, customer: CustomerDatabase, sql: str, kind: int, value: str,
    expected: str,
) -> None:
    await _template(stub, tenant, "edge", sql, pb.ParameterSpec(name="at", type=kind, required=True))
    gateway = await _gateway(stub, tenant, customer, "edge")
    result = await _execute(stub, tenant, gateway.id, "edge", at=value)
    assert json_format.MessageToDict(result.rows[0]) == {"v": expected}


@pytest.mark.parametrize(
    ("sql", "specs", "params", "field"),
    [
        pytest.param("SELECT 1/0 AS v", [], {}, "template_id", id="division-by-zero"),
        pytest.param("SELECT $1::timestamptz + interval '300000 years' AS v",
                     [pb.ParameterSpec(name="at", type=TIMESTAMP, required=True)],
                     {"at": "9999-12-31T12:00:00Z"}, "parameters", id="out-of-range"),
    ],
)
async def test_data_errors_are_invalid_argument_with_the_database_message(
    stub: Any, tenant: str, customer: CustomerDatabase, sql: str, specs: list[Any],
    params: dict[str, Any], field: str,
) -> None:
    await _template(stub, tenant, "bad-value", sql, *specs)
    gateway = await _gateway(stub, tenant, customer, "bad-value")
    err = await _refused(_execute(stub, tenant, gateway.id, "bad-value", **params))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert err.reason == "TARGET_REJECTED_VALUE"
    assert list(err.field_violations) == [field]
    assert customer.dsn not in err.message


async def test_a_port_out_of_range_is_invalid_argument(
    stub: Any, tenant: str, customer: CustomerDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_SQLGW_TEST_BAD_PORT", "postgresql://u:pw@127.0.0.1:99999/db")
    await _template(stub, tenant, "one", "SELECT 1 AS one")
    gateway = await stub.CreateGateway(pb.CreateGatewayRequest(
        tenant_id=tenant,
        gateway=pb.Gateway(name="bad-port", connection_string_ref="env://DEV_SQLGW_TEST_BAD_PORT",
                           allowed_template_ids=["one"]),
    ))
    err = await _refused(_execute(stub, tenant, gateway.id, "one"))
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT
    assert err.reason == "CONNECTION_STRING_INVALID"
    assert "pw" not in err.message
