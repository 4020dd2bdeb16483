"""The type suite at the driver: every built-in PostgreSQL type returned by a query renders as a
JSON value or PostgreSQL's own text form (never a Python repr), and DATE and TIMESTAMP
parameters bind exactly, edge values included."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timezone
from typing import Any

import pytest

from drivers.sql_gateway.pool import PostgresQueryRunner
from drivers.sql_gateway.values import UnrenderableValue, to_json_value
from engines.kernel.errors import InvalidArgument
from engines.sql_gateway.gateway import BoundQuery, QueryLimits, QueryTarget
from tests.customer_database import CustomerDatabase, customer_database
from tests.sql_type_cases import RESULT_CASES, TYPES_NOT_RETURNABLE
from tests.support import loopback_guard

LIMITS = QueryLimits(max_rows=10, max_result_bytes=1 << 20, timeout_seconds=5, read_only=True)


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture
async def runner() -> AsyncIterator[PostgresQueryRunner]:
    runner = PostgresQueryRunner(egress=loopback_guard(), pool_size=2)
    yield runner
    await runner.close()


async def _value(runner: PostgresQueryRunner, customer: CustomerDatabase, sql: str,
                 *values: Any) -> Any:
    names = tuple(f"p{i}" for i in range(len(values)))
    result = await runner.run(
        QueryTarget("t", customer.dsn), BoundQuery(sql, names, values), LIMITS
    )
    return result.rows[0]["v"]


@pytest.mark.parametrize(
    ("expression", "expected"), [pytest.param(e, v, id=i) for i, e, v in RESULT_CASES]
)
async def test_every_type_renders(
    runner: PostgresQueryRunner, customer: CustomerDatabase, expression: str, expected: Any
) -> None:
    assert await _value(runner, customer, f"SELECT {expression} AS v") == expected


async def test_the_cases_cover_every_built_in_type(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    covered = set()
    for _, expression, _ in RESULT_CASES:
        covered.add(await _value(
            runner, customer,
            f"SELECT t.typname::text AS v FROM pg_type t WHERE t.oid = pg_typeof({expression})",
        ))
    catalog = await customer.fetchval(
        "SELECT array_agg(typname::text) FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace"
        " AND typtype IN ('b', 'r', 'm') AND typcategory NOT IN ('A', 'P') AND typisdefined"
    )
    assert isinstance(catalog, list)
    assert set(catalog) - TYPES_NOT_RETURNABLE - covered == set()


@pytest.mark.parametrize(
    ("sql", "value", "expected"),
    [
        pytest.param("SELECT $1::date::text AS v", date(1, 1, 1), "0001-01-01", id="date-min"),
        pytest.param("SELECT $1::date::text AS v", date(9999, 12, 31), "9999-12-31", id="date-max"),
        pytest.param("SELECT $1::date = 'infinity' AS v", date(9999, 12, 31), False,
                     id="date-max-is-not-infinity"),
        pytest.param("SELECT $1::timestamptz::text AS v",
                     datetime(1, 1, 1, tzinfo=timezone.utc), "0001-01-01 00:00:00+00",
                     id="timestamptz-min"),
        pytest.param("SELECT $1::timestamptz::text AS v",
                     datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
                     "9999-12-31 23:59:59.999999+00", id="timestamptz-max"),
        pytest.param("SELECT $1::timestamp::text AS v",
                     datetime(9999, 12, 31, 23, 0, tzinfo=timezone.utc), "9999-12-31 23:00:00",
                     id="timestamp-max"),
        pytest.param("SELECT $1::timestamptz + interval '1 day' AS v",
                     datetime(9999, 12, 31, 12, tzinfo=timezone.utc), "10000-01-01T12:00:00+00:00",
                     id="timestamptz-past-9999"),
        pytest.param("SELECT $1::date + 1 AS v", date(9999, 12, 31), "10000-01-01",
                     id="date-past-9999"),
        pytest.param("SELECT $1::date - 1 AS v", date(1, 1, 1), "0001-12-31 BC", id="date-bc"),
    ],
)
async def test_parameters_bind_exactly(
    runner: PostgresQueryRunner, customer: CustomerDatabase, sql: str, value: Any, expected: Any
) -> None:
    assert await _value(runner, customer, sql, value) == expected


async def test_a_value_past_the_database_range_is_invalid_argument_quoting_it(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await _value(runner, customer, "SELECT $1::timestamptz + interval '300000 years' AS v",
                     datetime(9999, 12, 31, 12, tzinfo=timezone.utc))
    assert "out of range" in caught.value.message
    assert customer.dsn not in caught.value.message


def test_an_unknown_python_value_is_refused_not_printed() -> None:
    with pytest.raises(UnrenderableValue):
        to_json_value(object())
