"""PostgresQueryRunner against a real customer database on the local PostgreSQL: value mapping,
caps, READ ONLY, timeouts with server-side cancellation, pool bounds and rotation, errors."""

from __future__ import annotations

import asyncio
import base64
import socket
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from drivers.sql_gateway.pool import PostgresQueryRunner
from drivers.sql_gateway.values import to_json_value
from engines.kernel.errors import DeadlineExceeded, FailedPrecondition, InvalidArgument, Unavailable
from engines.sql_gateway.gateway import BoundQuery, QueryLimits, QueryTarget
from engines.sql_gateway.results import TruncationReason, row_wire_size
from tests.customer_database import NUMBER_COUNT, CustomerDatabase, customer_database
from tests.support import loopback_guard


@pytest.fixture(scope="module")
def customer(postgres_admin_url: str) -> Iterator[CustomerDatabase]:
    with customer_database(postgres_admin_url) as db:
        yield db


@pytest.fixture
async def runner() -> AsyncIterator[PostgresQueryRunner]:
    runner = PostgresQueryRunner(egress=loopback_guard(), pool_size=4, max_pools=2, idle_seconds=60)
    yield runner
    await runner.close()


def _target(customer: CustomerDatabase, source: str = "tenant:env://X") -> QueryTarget:
    return QueryTarget(source=source, connection_string=customer.dsn)


def _limits(**overrides: Any) -> QueryLimits:
    values: dict[str, Any] = {
        "max_rows": 1000, "max_result_bytes": 5 * 1024 * 1024, "timeout_seconds": 5,
        "read_only": True,
    }
    values.update(overrides)
    return QueryLimits(**values)


def _query(sql: str, **params: Any) -> BoundQuery:
    return BoundQuery(sql, tuple(params), tuple(params.values()))


async def _gateway_backends(customer: CustomerDatabase, state: str | None = None) -> int:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2"
    args: list[object] = [customer.name, "integrations-sql-gateway"]
    if state is not None:
        sql += " AND state = $3"
        args.append(state)
    return int(await customer.fetchval(sql, *args))  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="null"),
        pytest.param(7, 7, id="int"),
        pytest.param(2**53, 2**53, id="int-2^53"),
        pytest.param(2**53 + 1, str(2**53 + 1), id="int-beyond-2^53"),
        pytest.param(-(2**60), str(-(2**60)), id="int-negative-large"),
        pytest.param(1.5, 1.5, id="float"),
        pytest.param(float("nan"), "NaN", id="float-nan"),
        pytest.param(float("-inf"), "-Infinity", id="float-inf"),
        pytest.param(Decimal("12.30"), 12.3, id="numeric-short"),
        pytest.param(Decimal("1234567890.123456789"), "1234567890.123456789", id="numeric-long"),
        pytest.param(Decimal("NaN"), "NaN", id="numeric-nan"),
        pytest.param(b"\x00\xff", base64.b64encode(b"\x00\xff").decode(), id="bytea"),
        pytest.param([1, None, 2**60], [1, None, str(2**60)], id="array"),
    ],
)
def test_value_mapping(value: object, expected: object) -> None:
    assert to_json_value(value) == expected


async def test_types_round_trip_from_postgres(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    sql = (
        "SELECT $1::bigint AS big, 9007199254740993::bigint AS huge, 1.25::float8 AS f, "
        "123456789012345678.5::numeric AS n, true AS b, DATE '2024-02-29' AS d, "
        "TIMESTAMPTZ '2024-01-02 03:04:05+00' AS ts, "
        "'6f1b0a3e-0000-4000-8000-000000000001'::uuid AS u, '\\x00ff'::bytea AS raw, "
        "ARRAY['a', 'b'] AS tags, NULL::text AS nothing, 1 AS id, 2 AS id"
    )
    result = await runner.run(_target(customer), _query(sql, x=42), _limits())
    assert result.columns == (
        "big", "huge", "f", "n", "b", "d", "ts", "u", "raw", "tags", "nothing", "id", "id_2",
    )
    assert result.rows == (
        {
            "big": 42, "huge": "9007199254740993", "f": 1.25, "n": "123456789012345678.5",
            "b": True, "d": "2024-02-29", "ts": "2024-01-02T03:04:05+00:00",
            "u": "6f1b0a3e-0000-4000-8000-000000000001", "raw": "AP8=", "tags": ["a", "b"],
            "nothing": None, "id": 1, "id_2": 2,
        },
    )
    assert result.result_bytes == row_wire_size(result.rows[0])


@pytest.mark.parametrize(
    ("limit", "expect_truncated"),
    [
        pytest.param(10, True, id="more-rows-than-cap"),
        pytest.param(NUMBER_COUNT, False, id="exactly-the-cap"),
        pytest.param(NUMBER_COUNT + 1, False, id="cap-above-count"),
    ],
)
async def test_row_cap_truncated_is_exact(
    runner: PostgresQueryRunner, customer: CustomerDatabase, limit: int, expect_truncated: bool
) -> None:
    result = await runner.run(
        _target(customer), _query("SELECT n FROM numbers ORDER BY n"), _limits(max_rows=limit)
    )
    assert result.row_count == min(limit, NUMBER_COUNT)
    assert result.truncated is expect_truncated
    assert result.truncation_reason == (TruncationReason.MAX_ROWS if expect_truncated else None)
    assert result.rows[-1] == {"n": min(limit, NUMBER_COUNT)}


async def test_byte_cap_stops_before_the_row_that_would_exceed(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    one_row = row_wire_size({"n": 1, "pad": "x" * 100})
    result = await runner.run(
        _target(customer),
        _query("SELECT n, pad FROM numbers ORDER BY n"),
        _limits(max_result_bytes=one_row * 3 + one_row // 2),
    )
    assert result.row_count == 3
    assert result.result_bytes == one_row * 3
    assert result.truncated is True
    assert result.truncation_reason is TruncationReason.MAX_RESULT_BYTES


async def test_byte_cap_exactly_met_is_not_truncated(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    one_row = row_wire_size({"n": 1, "pad": "x" * 100})
    result = await runner.run(
        _target(customer),
        _query("SELECT n, pad FROM numbers WHERE n <= 3 ORDER BY n"),
        _limits(max_result_bytes=one_row * 3),
    )
    assert (result.row_count, result.truncated) == (3, False)


async def test_empty_result_keeps_columns(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    result = await runner.run(
        _target(customer), _query("SELECT n, pad FROM numbers WHERE n < 0"), _limits()
    )
    assert (result.columns, result.rows, result.truncated) == (("n", "pad"), (), False)


async def test_read_only_transaction_refuses_a_data_modifying_cte(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    before = await customer.fingerprint()
    with pytest.raises(FailedPrecondition) as caught:
        await runner.run(
            _target(customer),
            _query("WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone"),
            _limits(read_only=True),
        )
    assert caught.value.reason == "READ_ONLY_TRANSACTION"
    assert "read-only transaction" in caught.value.message
    assert await customer.fingerprint() == before


async def test_write_transaction_commits(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    result = await runner.run(
        _target(customer),
        _query("INSERT INTO audit (note) VALUES ($1) RETURNING note", note="driver-write"),
        _limits(read_only=False),
    )
    assert result.rows == ({"note": "driver-write"},)
    assert await customer.fetchval("SELECT count(*) FROM audit WHERE note = 'driver-write'") == 1
    await customer.fetchval("DELETE FROM audit WHERE note = 'driver-write' RETURNING 1")


async def test_timeout_cancels_on_the_server_and_the_connection_stays_healthy(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    with pytest.raises(DeadlineExceeded) as caught:
        await runner.run(_target(customer), _query("SELECT pg_sleep(30)"), _limits(timeout_seconds=0.3))
    assert caught.value.reason == "QUERY_TIMEOUT"
    running = await customer.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE '%pg_sleep(30)%'"
        " AND state = 'active' AND pid <> pg_backend_pid()",
        customer.name,
    )
    assert running == 0
    pid_before = await runner.run(_target(customer), _query("SELECT pg_backend_pid() AS pid"), _limits())
    assert runner.pool_sizes() == [1]  # the same connection came back, not a new one
    again = await runner.run(_target(customer), _query("SELECT pg_backend_pid() AS pid"), _limits())
    assert again.rows == pid_before.rows


async def test_client_cancellation_cancels_on_the_server(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    task = asyncio.create_task(
        runner.run(_target(customer), _query("SELECT pg_sleep(30)"), _limits(timeout_seconds=60))
    )
    for _ in range(200):
        if await _gateway_backends(customer, "active"):
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(200):
        if not await _gateway_backends(customer, "active"):
            break
        await asyncio.sleep(0.02)
    assert await _gateway_backends(customer, "active") == 0
    result = await runner.run(_target(customer), _query("SELECT 1 AS one"), _limits())
    assert result.rows == ({"one": 1},)


async def test_pool_bounds_connections_over_a_thousand_queries(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    query = _query("SELECT n FROM numbers WHERE n = $1", n=5)

    async def worker() -> None:
        for _ in range(125):
            result = await runner.run(_target(customer), query, _limits())
            assert result.rows == ({"n": 5},)

    await asyncio.gather(*(worker() for _ in range(8)))
    assert runner.pool_count == 1
    assert runner.pool_sizes()[0] <= 4
    assert await _gateway_backends(customer) <= 4


async def test_rotated_credential_closes_the_old_pool(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    await runner.run(_target(customer), _query("SELECT 1"), _limits())
    rotated = QueryTarget(source="tenant:env://X", connection_string=customer.dsn + "?sslmode=disable")
    await runner.run(rotated, _query("SELECT 1"), _limits())
    assert runner.pool_count == 1
    assert await _gateway_backends(customer) == 1


async def test_pool_count_is_bounded(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    for n in range(4):  # four distinct connection strings, max_pools=2
        target = QueryTarget(source=f"t{n}", connection_string=f"{customer.dsn}?application_name=x{n}")
        await runner.run(target, _query("SELECT 1"), _limits())
        assert runner.pool_count <= 2


@pytest.mark.parametrize(
    ("sql", "reason", "fragment"),
    [
        pytest.param("SELEC 1", "TARGET_QUERY_FAILED", "syntax error", id="syntax"),
        pytest.param("SELECT * FROM missing_table", "TARGET_QUERY_FAILED", "missing_table",
                     id="missing-table"),
    ],
)
async def test_database_errors_carry_the_database_message(
    runner: PostgresQueryRunner, customer: CustomerDatabase, sql: str, reason: str, fragment: str
) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        await runner.run(_target(customer), _query(sql), _limits())
    assert caught.value.reason == reason
    assert fragment in caught.value.message
    assert customer.dsn not in caught.value.message


async def test_value_the_database_rejects_names_the_parameter(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await runner.run(
            _target(customer), _query("SELECT n FROM numbers WHERE n = $1", limit="abc"), _limits()
        )
    assert [v.field for v in caught.value.violations] == ["parameters.limit"]
    assert "abc" not in caught.value.message


async def test_unreachable_database_is_unavailable_without_the_connection_string(
    runner: PostgresQueryRunner,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dsn = f"postgresql://user:s3cret@127.0.0.1:{port}/nowhere"
    with pytest.raises(Unavailable) as caught:
        await runner.run(QueryTarget("t", dsn), _query("SELECT 1"), _limits())
    assert "s3cret" not in caught.value.message and str(port) not in caught.value.message


async def test_missing_database_and_non_postgres_urls_are_failed_precondition(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    missing = customer.dsn.rsplit("/", 1)[0] + "/no_such_database_here"
    with pytest.raises(FailedPrecondition) as caught:
        await runner.run(QueryTarget("t", missing), _query("SELECT 1"), _limits())
    assert caught.value.reason == "TARGET_DATABASE_MISSING"
    assert "no_such_database_here" not in caught.value.message
    with pytest.raises(FailedPrecondition) as caught:
        await runner.run(QueryTarget("t", "mysql://u:p@h/db"), _query("SELECT 1"), _limits())
    assert caught.value.reason == "GATEWAY_TARGET_UNSUPPORTED"


@pytest.mark.parametrize("read_only", [True, False], ids=["read-only", "read-write"])
async def test_session_settings_never_leak_into_the_next_query(
    runner: PostgresQueryRunner, customer: CustomerDatabase, read_only: bool
) -> None:
    await runner.run(
        _target(customer),
        _query("SELECT set_config('application_name', 'leaked', false) AS v"),
        _limits(read_only=read_only),
    )
    after = await runner.run(
        _target(customer), _query("SELECT current_setting('application_name') AS v"), _limits()
    )
    assert runner.pool_sizes() == [1]
    assert after.rows == ({"v": "integrations-sql-gateway"},)


async def test_timestamp_values_bind_to_both_timestamp_types(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    result = await runner.run(
        _target(customer),
        _query("SELECT $1::timestamp AS naive, $1::timestamptz AS aware, "
               "'infinity'::timestamp AS forever", at=moment),
        _limits(),
    )
    assert result.rows == (
        {"naive": "2024-05-01T10:00:00", "aware": "2024-05-01T10:00:00+00:00",
         "forever": "infinity"},
    )


async def test_client_deadline_holds_when_the_database_stops_answering() -> None:
    held: list[asyncio.StreamWriter] = []

    async def accept_and_ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    silent = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    runner = PostgresQueryRunner(egress=loopback_guard(), connect_timeout=30, client_grace_seconds=0.2)
    try:
        with pytest.raises(DeadlineExceeded):
            await runner.run(
                QueryTarget("t", f"postgresql://u@127.0.0.1:{port}/db"),
                _query("SELECT 1"),
                _limits(timeout_seconds=0.3),
            )
    finally:
        await runner.close()
        for writer in held:
            writer.close()
        silent.close()
        await silent.wait_closed()


def _memory(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == field:
            return int(value.split()[0]) * 1024
    raise AssertionError(field)


async def test_memory_while_reading_is_bounded_by_the_byte_cap(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    cap = 1 << 20
    query = _query("SELECT g, repeat('f', 6000000) AS blob FROM generate_series(1, 50) g")
    await runner.run(_target(customer), _query("SELECT 1"), _limits())  # connect first
    try:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        peak_resettable = True
    except OSError:
        peak_resettable = False
    rss_before = _memory("VmRSS")
    tracemalloc.start()
    try:
        result = await runner.run(_target(customer), query, _limits(max_result_bytes=cap))
        traced_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    rss_growth = _memory("VmHWM") - rss_before
    assert (result.row_count, result.truncation_reason) == (0, TruncationReason.MAX_RESULT_BYTES)
    assert traced_peak <= 3 * cap, traced_peak
    if peak_resettable:
        assert rss_growth <= 3 * cap, rss_growth
    # The aborted connection was dropped; the pool serves the next query.
    again = await runner.run(_target(customer), _query("SELECT 2 AS two"), _limits())
    assert again.rows == ({"two": 2},)


async def test_rows_that_pass_the_cap_in_a_write_commit_nothing(
    runner: PostgresQueryRunner, customer: CustomerDatabase
) -> None:
    before = await customer.fingerprint()
    with pytest.raises(FailedPrecondition) as caught:
        await runner.run(
            _target(customer),
            _query("INSERT INTO audit (note) SELECT repeat('w', 3000000) FROM generate_series(1, 3)"
                   " RETURNING note"),
            _limits(read_only=False, max_result_bytes=1 << 20),
        )
    assert caught.value.reason == "RESULT_TOO_LARGE"
    assert await customer.fingerprint() == before


@pytest.mark.parametrize(
    ("sql", "params", "field"),
    [
        pytest.param("SELECT 1/0 AS v", {}, "template_id", id="division-by-zero-no-parameters"),
        pytest.param("SELECT $1::int / 0 AS v", {"n": 1}, "parameters", id="division-by-zero"),
        pytest.param("SELECT $1::int + $2::int AS v", {"n": 1}, "template_id",
                     id="argument-count"),
        pytest.param("SELECT $2::int AS v", {"a": None, "b": 1}, "template_id",
                     id="untyped-placeholder"),
    ],
)
async def test_value_and_parameter_errors_are_invalid_argument(
    runner: PostgresQueryRunner, customer: CustomerDatabase, sql: str, params: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await runner.run(_target(customer), _query(sql, **params), _limits())
    assert [v.field for v in caught.value.violations] == [field]
    assert customer.dsn not in caught.value.message


@pytest.mark.parametrize("port", ["99999", "0", "65536"])
async def test_a_port_outside_the_range_is_invalid_argument(
    runner: PostgresQueryRunner, port: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await runner.run(QueryTarget("t", f"postgresql://u:pw@127.0.0.1:{port}/db"),
                         _query("SELECT 1"), _limits())
    assert caught.value.reason == "GATEWAY_TARGET_INVALID"
    assert "pw" not in caught.value.message
